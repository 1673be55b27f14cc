namespace Kcov.Instrumentation.Tests;

/// <summary>
/// The exact instrumented IL of one small method per construct (Roslyn 4.14 output, pinned). PCs print
/// as pc#site. A change here is a change of what every instrumented assembly looks like: review it.
/// </summary>
public sealed class GoldenIlTests(SamplesFixture samples) : IClassFixture<SamplesFixture>
{
    [Fact]
    public void BlocksAndAConstantComparisonInAnIf() => Assert.Equal("""
        IL_0000: ldc.i8 pc#0
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: ldc.i4.s 10
        IL_0011: stloc.1
        IL_0012: stloc.0
        IL_0013: ldloc.1
        IL_0014: ldloc.0
        IL_0015: ldc.i8 pc#1
        IL_001e: call Trace::ConstCmp4
        IL_0023: ldloc.0
        IL_0024: ldloc.1
        IL_0025: ble.s IL_0037
        IL_0027: ldc.i8 pc#2
        IL_0030: call Trace::Pc
        IL_0035: ldc.i4.1
        IL_0036: ret
        IL_0037: ldc.i8 pc#3
        IL_0040: call Trace::Pc
        IL_0045: ldc.i4.2
        IL_0046: ret

        """, samples.Listing("Branch"));

    [Fact]
    public void CeqOfTwoVariablesIsCmp4() => Assert.Equal("""
        IL_0000: ldc.i8 pc#4
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: ldarg.1
        IL_0010: stloc.1
        IL_0011: stloc.0
        IL_0012: ldloc.0
        IL_0013: ldloc.1
        IL_0014: ldc.i8 pc#5
        IL_001d: call Trace::Cmp4
        IL_0022: ldloc.0
        IL_0023: ldloc.1
        IL_0024: ceq
        IL_0026: ret

        """, samples.Listing("Equal"));

    [Fact]
    public void CltUnIsTraced() => Assert.Contains("""
        IL_0014: ldc.i8 pc#7
        IL_001d: call Trace::Cmp4
        IL_0022: ldloc.0
        IL_0023: ldloc.1
        IL_0024: clt.un
        """, samples.Listing("LessUnsigned"));

    [Fact]
    public void Int64LiteralThroughConvIsConstCmp8WithTheLiteralFirst() => Assert.Equal("""
        IL_0000: ldc.i8 pc#8
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: ldc.i4.5
        IL_0010: conv.i8
        IL_0011: stloc.1
        IL_0012: stloc.0
        IL_0013: ldloc.1
        IL_0014: ldloc.0
        IL_0015: ldc.i8 pc#9
        IL_001e: call Trace::ConstCmp8
        IL_0023: ldloc.0
        IL_0024: ldloc.1
        IL_0025: ceq
        IL_0027: ret

        """, samples.Listing("LongConst"));

    [Fact]
    public void NativeIntsAreWidenedWithConvU8ForCmp8() => Assert.Equal("""
        IL_0000: ldc.i8 pc#10
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: ldarg.1
        IL_0010: stloc.1
        IL_0011: stloc.0
        IL_0012: ldloc.0
        IL_0013: conv.u8
        IL_0014: ldloc.1
        IL_0015: conv.u8
        IL_0016: ldc.i8 pc#11
        IL_001f: call Trace::Cmp8
        IL_0024: ldloc.0
        IL_0025: ldloc.1
        IL_0026: cgt
        IL_0028: ret

        """, samples.Listing("NativeGreater"));

    [Fact]
    public void FloatComparisonsAreNotTraced() => Assert.Equal("""
        IL_0000: ldc.i8 pc#12
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: ldarg.1
        IL_0010: clt
        IL_0012: ret

        """, samples.Listing("Floats"));

    [Fact]
    public void ReferenceComparisonsAreNotTraced() => Assert.Equal("""
        IL_0000: ldc.i8 pc#13
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: ldnull
        IL_0010: ceq
        IL_0012: ret

        """, samples.Listing("IsNull"));

    [Fact]
    public void BrfalseOnABoolIsConstCmp4AgainstZero() => Assert.Equal("""
        IL_0000: ldc.i8 pc#14
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: stloc.0
        IL_0010: ldc.i4.0
        IL_0011: ldloc.0
        IL_0012: ldc.i8 pc#15
        IL_001b: call Trace::ConstCmp4
        IL_0020: ldloc.0
        IL_0021: brfalse.s IL_0033
        IL_0023: ldc.i8 pc#16
        IL_002c: call Trace::Pc
        IL_0031: ldc.i4.1
        IL_0032: ret
        IL_0033: ldc.i8 pc#17
        IL_003c: call Trace::Pc
        IL_0041: ldc.i4.0
        IL_0042: ret

        """, samples.Listing("Truth"));

    [Fact]
    public void SwitchIsTracedWithASharedCasesArrayAndEveryTargetIsABlock() => Assert.Equal("""
        IL_0000: ldc.i8 pc#18
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: dup
        IL_0010: conv.u8
        IL_0011: ldsfld <KcovSwitchCases>::Cases4
        IL_0016: ldc.i8 pc#19
        IL_001f: call Trace::Switch
        IL_0024: switch (IL_0049, IL_005a, IL_006b, IL_007c)
        IL_0039: ldc.i8 pc#20
        IL_0042: call Trace::Pc
        IL_0047: br.s IL_008d
        IL_0049: ldc.i8 pc#21
        IL_0052: call Trace::Pc
        IL_0057: ldc.i4.s 10
        IL_0059: ret
        IL_005a: ldc.i8 pc#22
        IL_0063: call Trace::Pc
        IL_0068: ldc.i4.s 11
        IL_006a: ret
        IL_006b: ldc.i8 pc#23
        IL_0074: call Trace::Pc
        IL_0079: ldc.i4.s 12
        IL_007b: ret
        IL_007c: ldc.i8 pc#24
        IL_0085: call Trace::Pc
        IL_008a: ldc.i4.s 13
        IL_008c: ret
        IL_008d: ldc.i8 pc#25
        IL_0096: call Trace::Pc
        IL_009b: ldc.i4.m1
        IL_009c: ret

        """, samples.Listing("Switch"));

    [Fact]
    public void LoopBranchesAreRetargetedToTheProbes() => Assert.Equal("""
        IL_0000: ldc.i8 pc#26
        IL_0009: call Trace::Pc
        IL_000e: ldc.i4.0
        IL_000f: stloc.0
        IL_0010: ldc.i4.0
        IL_0011: stloc.1
        IL_0012: br.s IL_002a
        IL_0014: ldc.i8 pc#27
        IL_001d: call Trace::Pc
        IL_0022: ldloc.0
        IL_0023: ldloc.1
        IL_0024: add
        IL_0025: stloc.0
        IL_0026: ldloc.1
        IL_0027: ldc.i4.1
        IL_0028: add
        IL_0029: stloc.1
        IL_002a: ldc.i8 pc#28
        IL_0033: call Trace::Pc
        IL_0038: ldloc.1
        IL_0039: ldarg.0
        IL_003a: stloc.3
        IL_003b: stloc.2
        IL_003c: ldloc.2
        IL_003d: ldloc.3
        IL_003e: ldc.i8 pc#29
        IL_0047: call Trace::Cmp4
        IL_004c: ldloc.2
        IL_004d: ldloc.3
        IL_004e: blt.s IL_0014
        IL_0050: ldc.i8 pc#30
        IL_0059: call Trace::Pc
        IL_005e: ldloc.0
        IL_005f: ret

        """, samples.Listing("Loop"));

    [Fact]
    public void TryCatchFinallyBoundariesMoveToTheProbes() => Assert.Equal("""
        IL_0000: ldc.i8 pc#31
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: call Int32::Parse
        IL_0014: stloc.0
        IL_0015: leave.s IL_0045
        IL_0017: ldc.i8 pc#32
        IL_0020: call Trace::Pc
        IL_0025: pop
        IL_0026: ldc.i4.m1
        IL_0027: stloc.0
        IL_0028: leave.s IL_0045
        IL_002a: ldc.i8 pc#33
        IL_0033: call Trace::Pc
        IL_0038: ldsfld Constructs::Counter
        IL_003d: ldc.i4.1
        IL_003e: add
        IL_003f: stsfld Constructs::Counter
        IL_0044: endfinally
        IL_0045: ldc.i8 pc#34
        IL_004e: call Trace::Pc
        IL_0053: ldloc.0
        IL_0054: ret
        .try IL_0000 to IL_0017 catch handler IL_0017 to IL_002a
        .try IL_0000 to IL_002a finally handler IL_002a to IL_0045

        """, samples.Listing("TryCatchFinally"));

    [Fact]
    public void FilterStartHandlerStartAndEndfilterGetProbes()
    {
        string listing = samples.Listing("Filter");
        Assert.Contains("""
            IL_0014: ldc.i8 pc#36
            IL_001d: call Trace::Pc
            IL_0022: isinst Exception
            IL_0027: dup
            IL_0028: brtrue.s IL_003c
            """, listing);
        Assert.Contains("""
            IL_007a: ldc.i8 pc#41
            IL_0083: call Trace::Pc
            IL_0088: endfilter
            IL_008a: ldc.i8 pc#42
            """, listing);
        Assert.EndsWith("""
            .try IL_0000 to IL_0014 filter filter IL_0014 handler IL_008a to IL_009d
            .try IL_0000 to IL_0014 catch handler IL_009d to IL_00b0

            """, listing);
    }

    [Fact]
    public void VolatilePrefixStaysWithItsInstruction() => Assert.Contains("""
        IL_0009: call Trace::Pc
        IL_000e: volatile.
        IL_0010: ldsfld Constructs::Volatile
        IL_0015: ldc.i4.3
        """, samples.Listing("VolatileRead"));

    [Fact]
    public void ReadonlyAndConstrainedPrefixesStayWithTheirInstructions() => Assert.Equal("""
        IL_0000: ldc.i8 pc#47
        IL_0009: call Trace::Pc
        IL_000e: ldarg.0
        IL_000f: ldarg.1
        IL_0010: readonly.
        IL_0012: ldelema T
        IL_0017: constrained. T
        IL_001d: callvirt Object::ToString
        IL_0022: ret

        """, samples.Listing("ReadonlyConstrained"));

    [Fact]
    public void AsyncStateMachineTryStartIsTheProbe()
    {
        string listing = IlListing.Of(samples.Result.AssemblyPath, "Constructs/<Async>d__17", "MoveNext", samples.Map.ModuleId);
        Assert.Contains("""
            IL_0015: ldc.i8 pc#65
            IL_001e: call Trace::Pc
            IL_0023: ldloc.0
            """, listing);
        Assert.EndsWith(".try IL_0015 to IL_0131 catch handler IL_0131 to IL_0158\n", listing);
    }

    [Fact]
    public void MethodsWithoutBodiesAreLeftAlone()
    {
        using var module = Mono.Cecil.ModuleDefinition.ReadModule(samples.Result.AssemblyPath);
        var shapes = module.GetType("Shapes");
        Assert.False(shapes.Methods.Single(m => m.Name == "Area").HasBody);
        // An extern method without DllImport has no flag saying so, only RVA 0: it must stay without code.
        Assert.Equal(0, shapes.Methods.Single(m => m.Name == "External").RVA);
        Assert.DoesNotContain(samples.Map.Methods, m => m.Name is "Area" or "External");
    }

    [Fact]
    public void SwitchCasesHaveKcovsLayout()
    {
        var type = samples.Assembly.GetType(SwitchCases.TypeName, throwOnError: true)!;
        var cases = (ulong[])type.GetField("Cases4", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.GetValue(null)!;
        Assert.Equal([4UL, 32, 0, 1, 2, 3], cases);
    }
}
