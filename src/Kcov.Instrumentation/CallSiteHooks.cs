using Kcov.Coverage;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// trace-cmp for the comparisons that run in CoreLib: a call in instrumented code to one of the
/// string, span, collection, enum or number methods of <see cref="Kcov.TraceCalls"/>'s list becomes
/// <c>ldc.i8 pc; call TraceCalls::Hook(the same arguments..., pc)</c>. The hook records both operands
/// (in KCOV_TRACE_CMP mode) and makes the original call, so results and exceptions are unchanged.
/// The site is a comparison site of the PC map. Calls after a prefix (<c>constrained.</c>,
/// <c>tail.</c>) are left alone, as are delegates to these methods.
/// </summary>
internal sealed class CallSiteHooks
{
    private readonly ModuleDefinition _module;
    private readonly SiteTable _sites;
    private readonly TypeReference _traceCalls;

    public CallSiteHooks(ModuleDefinition module, SiteTable sites)
    {
        _module = module;
        _sites = sites;
        // RuntimeReferences has added the reference to Kcov.Runtime already; add it if not (same identity).
        var identity = typeof(Kcov.TraceCalls).Assembly.GetName();
        var scope = module.AssemblyReferences.FirstOrDefault(r => r.Name == identity.Name);
        if (scope is null)
        {
            scope = new AssemblyNameReference(identity.Name!, identity.Version);
            module.AssemblyReferences.Add(scope);
        }
        _traceCalls = new TypeReference(typeof(Kcov.TraceCalls).Namespace, nameof(Kcov.TraceCalls), module, scope);
    }

    /// <summary>Calls replaced by a hook so far.</summary>
    public int Hooked { get; private set; }

    /// <summary>
    /// If <paramref name="instruction"/> calls a hooked method, appends the PC load to <paramref name="il"/>
    /// (it goes right before the call) and returns the hook to call instead; otherwise null.
    /// </summary>
    public MethodReference? TryHook(Instruction instruction, int offset, List<Instruction> il)
    {
        if (instruction.OpCode.Code is not (Code.Call or Code.Callvirt) || instruction.Operand is not MethodReference callee)
            return null;
        var hook = HookFor(callee);
        if (hook is null)
            return null;
        ulong pc = _sites.Add(SiteKind.Cmp, offset);
        il.Add(Instruction.Create(OpCodes.Ldc_I8, unchecked((long)pc)));
        Hooked++;
        return hook;
    }

    private MethodReference? HookFor(MethodReference callee)
    {
        var declaring = callee.DeclaringType;
        string type = declaring is GenericInstanceType g ? g.ElementType.FullName : declaring.FullName;
        string parameters = string.Join(",", callee.Parameters.Select(p => Shape(p.ParameterType)));
        string name = callee.Name;
        switch (type)
        {
            case "System.String":
                string? hook = (name, callee.HasThis, parameters) switch
                {
                    ("Equals" or "op_Equality", false, "string,string") => "StringEquals",
                    ("Equals", false, "string,string,StringComparison") => "StringEquals",
                    ("op_Inequality", false, "string,string") => "StringNotEquals",
                    ("Equals", true, "string" or "string,StringComparison") => "StringEqualsInstance",
                    ("Compare", false, "string,string" or "string,string,StringComparison") => "StringCompare",
                    ("CompareOrdinal", false, "string,string") => "StringCompareOrdinal",
                    ("StartsWith" or "EndsWith" or "Contains" or "IndexOf", true, "string" or "string,StringComparison") => "String" + name,
                    _ => null,
                };
                return hook is null ? null : Plain(hook, callee);
            case "System.MemoryExtensions":
                if (callee is GenericInstanceMethod gim && gim.GenericArguments.Count == 1
                    && gim.GenericArguments[0].MetadataType is MetadataType.Byte or MetadataType.Char
                    && name is "SequenceEqual" or "StartsWith" or "EndsWith" or "IndexOf"
                    && parameters is "ReadOnlySpan,ReadOnlySpan" or "Span,ReadOnlySpan")
                    return GenericOverMethodArgument("Span" + name, callee, gim.GenericArguments[0]);
                if (callee is not GenericInstanceMethod && parameters == "ReadOnlySpan,ReadOnlySpan,StringComparison"
                    && name is "Equals" or "StartsWith" or "EndsWith" or "CompareTo")
                    return Plain("CharSpan" + name, callee);
                return null;
            case "System.Collections.Generic.Dictionary`2":
                if (declaring is GenericInstanceType dict && dict.GenericArguments[0].MetadataType == MetadataType.String && callee.HasThis)
                    return (name, parameters) switch
                    {
                        ("TryGetValue", "param,byref") => DictionaryHook("DictionaryTryGetValue", dict, outValue: true, returnsValue: false),
                        ("ContainsKey", "param") => DictionaryHook("DictionaryContainsKey", dict, outValue: false, returnsValue: false),
                        ("get_Item", "param") => DictionaryHook("DictionaryGetItem", dict, outValue: false, returnsValue: true),
                        _ => null,
                    };
                return null;
            case "System.Collections.Generic.HashSet`1":
                if (declaring is GenericInstanceType set && set.GenericArguments[0].MetadataType == MetadataType.String
                    && callee.HasThis && name == "Contains" && parameters == "param")
                    return Hook("HashSetContains", _module.TypeSystem.Boolean, [declaring, _module.TypeSystem.String]);
                return null;
            case "System.Enum":
                if (callee is GenericInstanceMethod e && (name, parameters) is ("Parse", "string" or "string,bool") or ("TryParse", "string,byref" or "string,bool,byref"))
                    return GenericOverMethodArgument(name == "Parse" ? "EnumParse" : "EnumTryParse", callee, e.GenericArguments[0]);
                if (callee is not GenericInstanceMethod && name == "Parse" && parameters is "Type,string" or "Type,string,bool")
                    return Plain("EnumParse", callee);
                return null;
            case "System.Int32" or "System.Int64":
                string prefix = type == "System.Int32" ? "Int32" : "Int64";
                return (name, callee.HasThis, parameters) switch
                {
                    ("Parse", false, "string" or "string,IFormatProvider") => Plain(prefix + "Parse", callee),
                    ("TryParse", false, "string,byref") => Plain(prefix + "TryParse", callee),
                    _ => null,
                };
            default:
                return null;
        }
    }

    /// <summary>A parameter type as the table above names it.</summary>
    private static string Shape(TypeReference t) => t switch
    {
        ByReferenceType => "byref",
        GenericParameter => "param",
        GenericInstanceType g when g.ElementType.FullName == "System.ReadOnlySpan`1" => "ReadOnlySpan",
        GenericInstanceType g when g.ElementType.FullName == "System.Span`1" => "Span",
        _ when t.MetadataType == MetadataType.String => "string",
        _ when t.MetadataType == MetadataType.Boolean => "bool",
        _ => t.Name,
    };

    /// <summary>A non-generic hook: the callee's parameters (the receiver first, for an instance method) and pc.</summary>
    private MethodReference Plain(string name, MethodReference callee)
    {
        var parameters = new List<TypeReference>();
        if (callee.HasThis)
            parameters.Add(callee.DeclaringType);
        parameters.AddRange(callee.Parameters.Select(p => p.ParameterType));
        return Hook(name, callee.ReturnType, parameters);
    }

    /// <summary>A hook generic over the callee's one method type argument (spans of T, Enum.Parse&lt;TEnum&gt;).</summary>
    private MethodReference GenericOverMethodArgument(string name, MethodReference callee, TypeReference argument)
    {
        var hook = new MethodReference(name, _module.TypeSystem.Void, _traceCalls) { HasThis = false };
        var t = new GenericParameter("T", hook);
        hook.GenericParameters.Add(t);
        hook.ReturnType = Substitute(callee.ReturnType, t);
        foreach (var p in callee.Parameters)
            hook.Parameters.Add(new ParameterDefinition(Substitute(p.ParameterType, t)));
        hook.Parameters.Add(new ParameterDefinition(_module.TypeSystem.UInt64));
        var instance = new GenericInstanceMethod(hook);
        instance.GenericArguments.Add(argument);
        return instance;
    }

    /// <summary><c>Hook&lt;TValue&gt;(Dictionary&lt;string, TValue&gt;, string[, out TValue], ulong)</c>.</summary>
    private MethodReference DictionaryHook(string name, GenericInstanceType dictionary, bool outValue, bool returnsValue)
    {
        var hook = new MethodReference(name, _module.TypeSystem.Boolean, _traceCalls) { HasThis = false };
        var value = new GenericParameter("TValue", hook);
        hook.GenericParameters.Add(value);
        var open = new GenericInstanceType(dictionary.ElementType);
        open.GenericArguments.Add(_module.TypeSystem.String);
        open.GenericArguments.Add(value);
        hook.Parameters.Add(new ParameterDefinition(open));
        hook.Parameters.Add(new ParameterDefinition(_module.TypeSystem.String));
        if (outValue)
            hook.Parameters.Add(new ParameterDefinition(new ByReferenceType(value)));
        hook.Parameters.Add(new ParameterDefinition(_module.TypeSystem.UInt64));
        if (returnsValue)
            hook.ReturnType = value;
        var instance = new GenericInstanceMethod(hook);
        instance.GenericArguments.Add(dictionary.GenericArguments[1]);
        return instance;
    }

    private MethodReference Hook(string name, TypeReference returnType, IEnumerable<TypeReference> parameters)
    {
        var hook = new MethodReference(name, returnType, _traceCalls) { HasThis = false };
        foreach (var p in parameters)
            hook.Parameters.Add(new ParameterDefinition(p));
        hook.Parameters.Add(new ParameterDefinition(_module.TypeSystem.UInt64));
        return hook;
    }

    /// <summary>The callee's open signature with its method type parameter (!!0) replaced by the hook's.</summary>
    private static TypeReference Substitute(TypeReference type, GenericParameter hookParameter) => type switch
    {
        GenericParameter { Type: GenericParameterType.Method } => hookParameter,
        ByReferenceType r => new ByReferenceType(Substitute(r.ElementType, hookParameter)),
        GenericInstanceType g => Rebuild(g, hookParameter),
        _ => type,
    };

    private static GenericInstanceType Rebuild(GenericInstanceType g, GenericParameter hookParameter)
    {
        var copy = new GenericInstanceType(g.ElementType);
        foreach (var a in g.GenericArguments)
            copy.GenericArguments.Add(Substitute(a, hookParameter));
        return copy;
    }
}
