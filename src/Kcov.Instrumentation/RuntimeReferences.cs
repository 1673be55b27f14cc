using Mono.Cecil;

namespace Kcov.Instrumentation;

/// <summary>
/// References from the module being rewritten to Kcov.Runtime's trace entry points
/// (<see cref="Kcov.Trace"/>). Built by name against the runtime's fixed identity rather than
/// imported through reflection, so the module refers to "Kcov.Runtime, Version=1.0.0.0" whatever
/// process instruments it.
/// </summary>
internal sealed class RuntimeReferences
{
    public RuntimeReferences(ModuleDefinition module)
    {
        var identity = typeof(Trace).Assembly.GetName();
        var scope = module.AssemblyReferences.FirstOrDefault(r => r.Name == identity.Name);
        if (scope is null)
        {
            scope = new AssemblyNameReference(identity.Name!, identity.Version);
            module.AssemblyReferences.Add(scope);
        }
        var trace = new TypeReference(typeof(Trace).Namespace, nameof(Trace), module, scope);
        var types = module.TypeSystem;
        MethodReference Method(string name, params TypeReference[] parameters)
        {
            var method = new MethodReference(name, types.Void, trace) { HasThis = false };
            foreach (var p in parameters)
                method.Parameters.Add(new ParameterDefinition(p));
            return method;
        }
        Pc = Method(nameof(Trace.Pc), types.UInt64);
        Cmp4 = Method(nameof(Trace.Cmp4), types.UInt32, types.UInt32, types.UInt64);
        Cmp8 = Method(nameof(Trace.Cmp8), types.UInt64, types.UInt64, types.UInt64);
        ConstCmp4 = Method(nameof(Trace.ConstCmp4), types.UInt32, types.UInt32, types.UInt64);
        ConstCmp8 = Method(nameof(Trace.ConstCmp8), types.UInt64, types.UInt64, types.UInt64);
        Switch = Method(nameof(Trace.Switch), types.UInt64, new ArrayType(types.UInt64), types.UInt64);
    }

    /// <summary><c>Trace.Pc(ulong pc)</c>.</summary>
    public MethodReference Pc { get; }
    public MethodReference Cmp4 { get; }
    public MethodReference Cmp8 { get; }
    public MethodReference ConstCmp4 { get; }
    public MethodReference ConstCmp8 { get; }

    /// <summary><c>Trace.Switch(ulong val, ulong[] cases, ulong pc)</c>.</summary>
    public MethodReference Switch { get; }

    /// <summary>The simple name of the runtime assembly every instrumented module references.</summary>
    public static string AssemblyName => typeof(Trace).Assembly.GetName().Name!;
}
