using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// The locals comparison probes spill operands into, created on first use: at most two per stack
/// type per method. Reusing them across probes is safe because each probe stores and reloads them
/// with nothing in between that could run another probe.
/// </summary>
internal sealed class SpillLocals(MethodBody body, ModuleDefinition module)
{
    private readonly Dictionary<(StackKind, int), VariableDefinition> _locals = [];

    public VariableDefinition Get(StackKind kind, int slot)
    {
        if (!_locals.TryGetValue((kind, slot), out var local))
        {
            var types = module.TypeSystem;
            local = new VariableDefinition(kind switch
            {
                StackKind.Int32 => types.Int32,
                StackKind.Int64 => types.Int64,
                StackKind.NativeInt => types.IntPtr,
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "only integers are spilled"),
            });
            body.Variables.Add(local);
            _locals.Add((kind, slot), local);
        }
        return local;
    }
}
