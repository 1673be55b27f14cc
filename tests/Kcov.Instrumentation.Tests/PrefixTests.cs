using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// Prefixes C# never emits (tail., unaligned.), in methods built with Cecil: nothing may be inserted
/// between a prefix and its instruction, nor between a tail call and its ret, and the code must still run.
/// </summary>
public sealed class PrefixTests
{
    /// <summary>
    /// <code>
    /// static int Target(int x) => x + 1;
    /// static int TailCaller(int x) { if (x &lt;= 0) goto Zero; return tail Target(x); Zero: return 0; }
    /// static unsafe int Unaligned(int* p) { if (p == null) return -1; return unaligned(1) *p; }
    /// static int TailJoin(int x) { int v = x &gt; 0 ? x : 0; ... tail. call Target; ret (the ret is also a branch target) }
    /// </code>
    /// </summary>
    private static string Build(string directory)
    {
        var module = ModuleDefinition.CreateModule("Prefixes", new ModuleParameters { Kind = ModuleKind.Dll });
        var type = new TypeDefinition("", "Prefixed", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed, module.TypeSystem.Object);
        module.Types.Add(type);
        var int32 = module.TypeSystem.Int32;
        MethodDefinition Method(string name, TypeReference parameter)
        {
            var m = new MethodDefinition(name, MethodAttributes.Public | MethodAttributes.Static, int32);
            m.Parameters.Add(new ParameterDefinition("x", ParameterAttributes.None, parameter));
            type.Methods.Add(m);
            return m;
        }

        var target = Method("Target", int32);
        var il = target.Body.GetILProcessor();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Ret);

        var caller = Method("TailCaller", int32);
        il = caller.Body.GetILProcessor();
        var zero = il.Create(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Ble, zero);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Tail);
        il.Emit(OpCodes.Call, target);
        il.Emit(OpCodes.Ret);
        il.Append(zero);
        il.Emit(OpCodes.Ret);

        var unaligned = Method("Unaligned", new PointerType(int32));
        il = unaligned.Body.GetILProcessor();
        var load = il.Create(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Brtrue, load);
        il.Emit(OpCodes.Ldc_I4_M1);
        il.Emit(OpCodes.Ret);
        il.Append(load);
        il.Emit(OpCodes.Unaligned, (byte)1);
        il.Emit(OpCodes.Ldind_I4);
        il.Emit(OpCodes.Ret);

        var join = Method("TailJoin", int32);
        il = join.Body.GetILProcessor();
        var ret = il.Create(OpCodes.Ret);
        var call = il.Create(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Brtrue, call);
        il.Emit(OpCodes.Ldc_I4_7);
        il.Emit(OpCodes.Br, ret);
        il.Append(call);
        il.Emit(OpCodes.Tail);
        il.Emit(OpCodes.Call, target);
        il.Append(ret);

        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "Prefixes.dll");
        module.Write(path);
        return path;
    }

    [Fact]
    public void TailCallKeepsItsRetAndRuns()
    {
        using var dir = new TempDirectory();
        var result = AssemblyInstrumenter.Instrument(Build(dir.Combine("in")), dir.Combine("out"), new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });
        var lines = IlListing.Of(result.AssemblyPath, "Prefixed", "TailCaller", result.ModuleId).Split('\n');
        int tail = Array.FindIndex(lines, l => l.EndsWith(": tail.", StringComparison.Ordinal));
        Assert.EndsWith("call Prefixed::Target", lines[tail + 1]);
        Assert.EndsWith(": ret", lines[tail + 2]);
        var context = new InstrumentedLoadContext([result.AssemblyPath]);
        var method = context.LoadFromAssemblyPath(result.AssemblyPath).GetType("Prefixed")!.GetMethod("TailCaller")!;
        var pcs = Recorder.Pcs(() => Assert.Equal(6, method.Invoke(null, [5])));
        Assert.Equal(3, pcs.Length);
        context.Unload();
    }

    [Fact]
    public void RetAfterATailCallGetsNoProbeEvenAsABranchTarget()
    {
        using var dir = new TempDirectory();
        var result = AssemblyInstrumenter.Instrument(Build(dir.Combine("in")), dir.Combine("out"), new InstrumentationOptions { Trace = TraceModes.Pc });
        var lines = IlListing.Of(result.AssemblyPath, "Prefixed", "TailJoin", result.ModuleId).Split('\n');
        int tail = Array.FindIndex(lines, l => l.EndsWith(": tail.", StringComparison.Ordinal));
        Assert.EndsWith("call Prefixed::Target", lines[tail + 1]);
        Assert.EndsWith(": ret", lines[tail + 2]);
        // The branch that skips the call lands on the unprobed ret: entry, the "7" block and the call block are the sites.
        Assert.Equal(3, result.Map.Methods.Select((m, i) => (m, i)).Where(x => x.m.Name == "TailJoin")
            .Sum(x => result.Map.Sites.ToArray().Count(s => s.Method == x.i)));
    }

    [Fact]
    public unsafe void UnalignedPrefixStaysWithItsLoadAndRuns()
    {
        using var dir = new TempDirectory();
        var result = AssemblyInstrumenter.Instrument(Build(dir.Combine("in")), dir.Combine("out"), new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });
        var lines = IlListing.Of(result.AssemblyPath, "Prefixed", "Unaligned", result.ModuleId).Split('\n');
        int prefix = Array.FindIndex(lines, l => l.Contains(": unaligned. 1", StringComparison.Ordinal));
        Assert.True(prefix > 0, string.Join("\n", lines));
        Assert.EndsWith(": ldind.i4", lines[prefix + 1]);
        var context = new InstrumentedLoadContext([result.AssemblyPath]);
        var method = context.LoadFromAssemblyPath(result.AssemblyPath).GetType("Prefixed")!.GetMethod("Unaligned")!;
        int* value = stackalloc int[1];
        *value = 42;
        object boxed = System.Reflection.Pointer.Box(value, typeof(int*));
        // brtrue on a pointer (native int) is a ConstCmp8 against 0.
        var records = Recorder.Cmps(() => Assert.Equal(42, method.Invoke(null, [boxed])));
        Assert.Single(records);
        Assert.Equal(KcovAbi.CmpSize(3) | KcovAbi.CmpConst, records[0].Type);
        Assert.Equal(0UL, records[0].Arg1);
        Assert.Equal((ulong)value, records[0].Arg2);
        context.Unload();
    }
}
