using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// The probes instrumented code calls, one small class per module. Each probe takes the site's
/// 32-bit index in the module and hands <c>Kcov.Trace</c> the whole PC, so a block costs
/// <c>ldloca.s frame; ldc.i4 index; call</c> (12 IL bytes, 9 for the first 128 sites) where a
/// whole PC would take <c>ldc.i8 pc</c> alone 9: fewer methods cross the JIT's inlining limits.
/// <c>frame</c> is one byte-sized local per instrumented method whose address tells the trace
/// path which thread runs (see Kcov.ThreadIdentity). The probes are
/// <c>AggressiveInlining</c> and their PC base and bitmap base are JIT-time constants, so after
/// inlining nothing of the wrapper remains. In C#:
/// <code>
/// internal static class &lt;Kcov&gt;
/// {
///     // Unique mode: this module's bits in the process-wide bitmap.
///     internal static readonly uint BitBase = Trace.RegisterModule(SITES);
///     [AggressiveInlining] internal static void Pc(ref byte frame, uint i) => Trace.Pc(ref frame, MODULE &lt;&lt; 32 | i, BitBase + i);
///     [AggressiveInlining] internal static void Cmp4(ref byte frame, uint a, uint b, uint i) => Trace.Cmp4(ref frame, a, b, MODULE &lt;&lt; 32 | i);
///     // ... one per Trace entry point the module uses
/// }
/// </code>
/// </summary>
internal sealed class ModuleProbes
{
    public const string TypeName = "<Kcov>";

    private readonly ModuleDefinition _module;
    private readonly RuntimeReferences _runtime;
    private readonly ulong _pcBase;
    private readonly Dictionary<string, MethodDefinition> _probes = [];
    private TypeDefinition? _type;
    private FieldDefinition? _bitBase;

    public ModuleProbes(ModuleDefinition module, RuntimeReferences runtime, uint moduleId)
    {
        _module = module;
        _runtime = runtime;
        _pcBase = (ulong)moduleId << 32;
    }

    /// <summary><c>&lt;Kcov&gt;.Pc(ref byte frame, uint index)</c>: a basic block.</summary>
    public MethodReference Pc => _probes.TryGetValue(nameof(Pc), out var probe) ? probe : CreatePc();

    /// <summary>The probe that forwards to <paramref name="target"/>, a <c>Trace</c> method whose last parameter is the PC.</summary>
    public MethodReference For(MethodReference target)
    {
        if (_probes.TryGetValue(target.Name, out var probe))
            return probe;
        var types = _module.TypeSystem;
        probe = NewProbe(target.Name);
        var il = probe.Body.GetILProcessor();
        for (int i = 0; i < target.Parameters.Count - 1; i++)
        {
            probe.Parameters.Add(new ParameterDefinition(target.Parameters[i].ParameterType));
            il.Emit(OpCodes.Ldarg, probe.Parameters[i]);
        }
        var index = new ParameterDefinition("index", ParameterAttributes.None, types.UInt32);
        probe.Parameters.Add(index);
        EmitPc(il, index);
        il.Emit(OpCodes.Call, target);
        il.Emit(OpCodes.Ret);
        return probe;
    }

    private MethodDefinition CreatePc()
    {
        var types = _module.TypeSystem;
        var probe = NewProbe(nameof(Pc));
        var frame = new ParameterDefinition("frame", ParameterAttributes.None, new ByReferenceType(types.Byte));
        var index = new ParameterDefinition("index", ParameterAttributes.None, types.UInt32);
        probe.Parameters.Add(frame);
        probe.Parameters.Add(index);
        var il = probe.Body.GetILProcessor();
        il.Emit(OpCodes.Ldarg, frame);
        EmitPc(il, index);
        il.Emit(OpCodes.Ldsfld, BitBase);
        il.Emit(OpCodes.Ldarg, index);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Call, _runtime.Pc);
        il.Emit(OpCodes.Ret);
        return probe;
    }

    /// <summary><c>MODULE &lt;&lt; 32 | index</c>, as a ulong.</summary>
    private void EmitPc(ILProcessor il, ParameterDefinition index)
    {
        il.Emit(OpCodes.Ldc_I8, unchecked((long)_pcBase));
        il.Emit(OpCodes.Ldarg, index);
        il.Emit(OpCodes.Conv_U8);
        il.Emit(OpCodes.Or);
    }

    private MethodDefinition NewProbe(string name)
    {
        var probe = new MethodDefinition(name, MethodAttributes.Assembly | MethodAttributes.Static | MethodAttributes.HideBySig,
            _module.TypeSystem.Void)
        {
            ImplAttributes = MethodImplAttributes.AggressiveInlining,
        };
        Type.Methods.Add(probe);
        _probes.Add(name, probe);
        return probe;
    }

    private FieldDefinition? _edgeMap, _previous;

    /// <summary>
    /// For the overhead bench only (InstrumentationOptions.SharpFuzzEdgeMap): SharpFuzz's block
    /// probe, its IL as SharpFuzz emits it, against a 64 KiB map and the previous block's id in
    /// static fields of this class (SharpFuzz keeps them in static fields of its own assembly):
    /// <code>
    /// ldsfld Map; ldc.i4 cur; ldsfld Prev; xor; conv.i; add; dup; ldind.u1; ldc.i4.1; add; stind.i1
    /// ldc.i4 cur &gt;&gt; 1; stsfld Prev          // Map[cur ^ Prev]++; Prev = cur &gt;&gt; 1;
    /// </code>
    /// <c>cur</c> is a 16-bit id mixed from the site index (SharpFuzz draws it at random).
    /// </summary>
    public void EmitEdgeMap(List<Instruction> il, int siteIndex)
    {
        var types = _module.TypeSystem;
        if (_edgeMap is null)
        {
            _edgeMap = new FieldDefinition("Map", FieldAttributes.Assembly | FieldAttributes.Static, types.IntPtr);
            _previous = new FieldDefinition("Prev", FieldAttributes.Assembly | FieldAttributes.Static, types.Int32);
            Type.Fields.Add(_edgeMap);
            Type.Fields.Add(_previous);
        }
        int cur = (int)((uint)siteIndex * 0x9E3779B1u >> 16);
        il.Add(Instruction.Create(OpCodes.Ldsfld, _edgeMap));
        il.Add(Instruction.Create(OpCodes.Ldc_I4, cur));
        il.Add(Instruction.Create(OpCodes.Ldsfld, _previous));
        il.Add(Instruction.Create(OpCodes.Xor));
        il.Add(Instruction.Create(OpCodes.Conv_I));
        il.Add(Instruction.Create(OpCodes.Add));
        il.Add(Instruction.Create(OpCodes.Dup));
        il.Add(Instruction.Create(OpCodes.Ldind_U1));
        il.Add(Instruction.Create(OpCodes.Ldc_I4_1));
        il.Add(Instruction.Create(OpCodes.Add));
        il.Add(Instruction.Create(OpCodes.Stind_I1));
        il.Add(Instruction.Create(OpCodes.Ldc_I4, cur >> 1));
        il.Add(Instruction.Create(OpCodes.Stsfld, _previous));
    }

    private FieldDefinition BitBase => _bitBase ??= CreateBitBase();

    private FieldDefinition CreateBitBase()
    {
        var field = new FieldDefinition("BitBase", FieldAttributes.Assembly | FieldAttributes.Static | FieldAttributes.InitOnly,
            _module.TypeSystem.UInt32);
        Type.Fields.Add(field);
        return field;
    }

    private TypeDefinition Type => _type ??= CreateType();

    private TypeDefinition CreateType()
    {
        var type = new TypeDefinition("", TypeName,
            TypeAttributes.NotPublic | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.BeforeFieldInit | TypeAttributes.Class,
            _module.TypeSystem.Object);
        _module.Types.Add(type);
        return type;
    }

    /// <summary>
    /// Emits the type initializer once every site is numbered: <c>BitBase = Trace.RegisterModule(sites)</c>
    /// (and for the bench's edge map, <c>Map = Marshal.AllocHGlobal(65536)</c>).
    /// </summary>
    public void Complete(int sites)
    {
        if (_bitBase is null && _edgeMap is null)
            return;
        var cctor = new MethodDefinition(".cctor", MethodAttributes.Private | MethodAttributes.Static | MethodAttributes.HideBySig
            | MethodAttributes.SpecialName | MethodAttributes.RTSpecialName, _module.TypeSystem.Void);
        var il = cctor.Body.GetILProcessor();
        if (_bitBase is not null)
        {
            il.Emit(OpCodes.Ldc_I4, sites);
            il.Emit(OpCodes.Call, _runtime.RegisterModule);
            il.Emit(OpCodes.Stsfld, _bitBase);
        }
        if (_edgeMap is not null)
        {
            il.Emit(OpCodes.Ldc_I4, 65536);
            il.Emit(OpCodes.Call, _module.ImportReference(typeof(System.Runtime.InteropServices.Marshal).GetMethod("AllocHGlobal", [typeof(int)])));
            il.Emit(OpCodes.Stsfld, _edgeMap);
        }
        il.Emit(OpCodes.Ret);
        Type.Methods.Add(cctor);
    }
}
