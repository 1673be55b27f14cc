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
        MethodReference Method(string name, params TypeReference[] parameters) => Function(name, types.Void, parameters);
        MethodReference Function(string name, TypeReference returns, params TypeReference[] parameters)
        {
            var method = new MethodReference(name, returns, trace) { HasThis = false };
            foreach (var p in parameters)
                method.Parameters.Add(new ParameterDefinition(p));
            return method;
        }
        var frame = new ByReferenceType(types.Byte);
        Pc = Method(nameof(Trace.Pc), frame, types.UInt64, types.UInt32);
        RegisterModule = Function(nameof(Trace.RegisterModule), types.UInt32, types.UInt32);
        Cmp1 = Method(nameof(Trace.Cmp1), frame, types.Byte, types.Byte, types.UInt64);
        Cmp2 = Method(nameof(Trace.Cmp2), frame, types.UInt16, types.UInt16, types.UInt64);
        ConstCmp1 = Method(nameof(Trace.ConstCmp1), frame, types.Byte, types.Byte, types.UInt64);
        ConstCmp2 = Method(nameof(Trace.ConstCmp2), frame, types.UInt16, types.UInt16, types.UInt64);
        Cmp4 = Method(nameof(Trace.Cmp4), frame, types.UInt32, types.UInt32, types.UInt64);
        Cmp8 = Method(nameof(Trace.Cmp8), frame, types.UInt64, types.UInt64, types.UInt64);
        ConstCmp4 = Method(nameof(Trace.ConstCmp4), frame, types.UInt32, types.UInt32, types.UInt64);
        ConstCmp8 = Method(nameof(Trace.ConstCmp8), frame, types.UInt64, types.UInt64, types.UInt64);
        Switch = Method(nameof(Trace.Switch), types.UInt64, new ArrayType(types.UInt64), types.UInt64);
    }

    /// <summary><c>Trace.Pc(ref byte frame, ulong pc, uint bit)</c>; the comparisons also take the frame first.</summary>
    public MethodReference Pc { get; }

    /// <summary><c>uint Trace.RegisterModule(uint sites)</c>.</summary>
    public MethodReference RegisterModule { get; }

    public MethodReference Cmp1 { get; }
    public MethodReference Cmp2 { get; }
    public MethodReference ConstCmp1 { get; }
    public MethodReference ConstCmp2 { get; }
    public MethodReference Cmp4 { get; }
    public MethodReference Cmp8 { get; }
    public MethodReference ConstCmp4 { get; }
    public MethodReference ConstCmp8 { get; }

    /// <summary><c>Trace.Switch(ulong val, ulong[] cases, ulong pc)</c>.</summary>
    public MethodReference Switch { get; }

    /// <summary>The simple name of the runtime assembly every instrumented module references.</summary>
    public static string AssemblyName => typeof(Trace).Assembly.GetName().Name!;
}
