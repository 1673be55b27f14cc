namespace Kcov.Instrumentation.Tests;

/// <summary>
/// The exact instrumented IL of one small method per construct (Roslyn 4.14 output, pinned), with
/// every block probed (<c>--no-prune</c>; PruningTests covers which blocks pruning leaves out). A
/// probe is <c>ldloca frame; ldc.i4 site#N; call &lt;Kcov&gt;::Pc</c> (or a comparison probe with the
/// operands between). A change here is a change of what every instrumented assembly looks like: review it.
/// </summary>
public sealed class GoldenIlTests(SamplesFixture samples) : IClassFixture<SamplesFixture>
{
    [Fact]
    public void BlocksAndAConstantComparisonInAnIf() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.0 site#0
        IL_0003: call <Kcov>::Pc
        IL_0008: ldarg.0
        IL_0009: ldc.i4.s 10
        IL_000b: stloc.2
        IL_000c: stloc.1
        IL_000d: ldloca.s V_0
        IL_000f: ldloc.2
        IL_0010: ldloc.1
        IL_0011: ldc.i4.1 site#1
        IL_0012: call <Kcov>::ConstCmp4
        IL_0017: ldloc.1
        IL_0018: ldloc.2
        IL_0019: ble.s IL_0025
        IL_001b: ldloca.s V_0
        IL_001d: ldc.i4.2 site#2
        IL_001e: call <Kcov>::Pc
        IL_0023: ldc.i4.1
        IL_0024: ret
        IL_0025: ldloca.s V_0
        IL_0027: ldc.i4.3 site#3
        IL_0028: call <Kcov>::Pc
        IL_002d: ldc.i4.2
        IL_002e: ret

        """, samples.Listing("Branch"));

    [Fact]
    public void CeqOfTwoVariablesIsCmp4() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.4 site#4
        IL_0003: call <Kcov>::Pc
        IL_0008: ldarg.0
        IL_0009: ldarg.1
        IL_000a: stloc.2
        IL_000b: stloc.1
        IL_000c: ldloca.s V_0
        IL_000e: ldloc.1
        IL_000f: ldloc.2
        IL_0010: ldc.i4.5 site#5
        IL_0011: call <Kcov>::Cmp4
        IL_0016: ldloc.1
        IL_0017: ldloc.2
        IL_0018: ceq
        IL_001a: ret

        """, samples.Listing("Equal"));

    [Fact]
    public void CltUnIsTraced() => Assert.Contains("""
        IL_0010: ldc.i4.7 site#7
        IL_0011: call <Kcov>::Cmp4
        IL_0016: ldloc.1
        IL_0017: ldloc.2
        IL_0018: clt.un
        """, samples.Listing("LessUnsigned"));

    [Fact]
    public void Int64LiteralThroughConvIsConstCmp8WithTheLiteralFirst() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.8 site#8
        IL_0003: call <Kcov>::Pc
        IL_0008: ldarg.0
        IL_0009: ldc.i4.5
        IL_000a: conv.i8
        IL_000b: stloc.2
        IL_000c: stloc.1
        IL_000d: ldloca.s V_0
        IL_000f: ldloc.2
        IL_0010: ldloc.1
        IL_0011: ldc.i4.s site#9
        IL_0013: call <Kcov>::ConstCmp8
        IL_0018: ldloc.1
        IL_0019: ldloc.2
        IL_001a: ceq
        IL_001c: ret

        """, samples.Listing("LongConst"));

    [Fact]
    public void NativeIntsAreWidenedWithConvU8ForCmp8() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.s site#10
        IL_0004: call <Kcov>::Pc
        IL_0009: ldarg.0
        IL_000a: ldarg.1
        IL_000b: stloc.2
        IL_000c: stloc.1
        IL_000d: ldloca.s V_0
        IL_000f: ldloc.1
        IL_0010: conv.u8
        IL_0011: ldloc.2
        IL_0012: conv.u8
        IL_0013: ldc.i4.s site#11
        IL_0015: call <Kcov>::Cmp8
        IL_001a: ldloc.1
        IL_001b: ldloc.2
        IL_001c: cgt
        IL_001e: ret

        """, samples.Listing("NativeGreater"));

    [Fact]
    public void FloatComparisonsAreNotTraced() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.s site#12
        IL_0004: call <Kcov>::Pc
        IL_0009: ldarg.0
        IL_000a: ldarg.1
        IL_000b: clt
        IL_000d: ret

        """, samples.Listing("Floats"));

    [Fact]
    public void ReferenceComparisonsAreNotTraced() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.s site#13
        IL_0004: call <Kcov>::Pc
        IL_0009: ldarg.0
        IL_000a: ldnull
        IL_000b: ceq
        IL_000d: ret

        """, samples.Listing("IsNull"));

    [Fact]
    public void BrfalseOnABoolIsConstCmp4AgainstZero() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.s site#14
        IL_0004: call <Kcov>::Pc
        IL_0009: ldarg.0
        IL_000a: stloc.1
        IL_000b: ldloca.s V_0
        IL_000d: ldc.i4.0
        IL_000e: ldloc.1
        IL_000f: ldc.i4.s site#15
        IL_0011: call <Kcov>::ConstCmp4
        IL_0016: ldloc.1
        IL_0017: brfalse.s IL_0024
        IL_0019: ldloca.s V_0
        IL_001b: ldc.i4.s site#16
        IL_001d: call <Kcov>::Pc
        IL_0022: ldc.i4.1
        IL_0023: ret
        IL_0024: ldloca.s V_0
        IL_0026: ldc.i4.s site#17
        IL_0028: call <Kcov>::Pc
        IL_002d: ldc.i4.0
        IL_002e: ret

        """, samples.Listing("Truth"));

    [Fact]
    public void SwitchIsTracedWithASharedCasesArrayAndEveryTargetIsABlock() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.s site#18
        IL_0004: call <Kcov>::Pc
        IL_0009: ldarg.0
        IL_000a: dup
        IL_000b: conv.u8
        IL_000c: ldsfld <KcovSwitchCases>::Cases4
        IL_0011: ldc.i4.s site#19
        IL_0013: call <Kcov>::Switch
        IL_0018: switch (IL_0038, IL_0044, IL_0050, IL_005c)
        IL_002d: ldloca.s V_0
        IL_002f: ldc.i4.s site#20
        IL_0031: call <Kcov>::Pc
        IL_0036: br.s IL_0068
        IL_0038: ldloca.s V_0
        IL_003a: ldc.i4.s site#21
        IL_003c: call <Kcov>::Pc
        IL_0041: ldc.i4.s 10
        IL_0043: ret
        IL_0044: ldloca.s V_0
        IL_0046: ldc.i4.s site#22
        IL_0048: call <Kcov>::Pc
        IL_004d: ldc.i4.s 11
        IL_004f: ret
        IL_0050: ldloca.s V_0
        IL_0052: ldc.i4.s site#23
        IL_0054: call <Kcov>::Pc
        IL_0059: ldc.i4.s 12
        IL_005b: ret
        IL_005c: ldloca.s V_0
        IL_005e: ldc.i4.s site#24
        IL_0060: call <Kcov>::Pc
        IL_0065: ldc.i4.s 13
        IL_0067: ret
        IL_0068: ldloca.s V_0
        IL_006a: ldc.i4.s site#25
        IL_006c: call <Kcov>::Pc
        IL_0071: ldc.i4.m1
        IL_0072: ret

        """, samples.Listing("Switch"));

    [Fact]
    public void LoopBranchesAreRetargetedToTheProbes() => Assert.Equal("""
        IL_0000: ldloca.s V_2
        IL_0002: ldc.i4.s site#26
        IL_0004: call <Kcov>::Pc
        IL_0009: ldc.i4.0
        IL_000a: stloc.0
        IL_000b: ldc.i4.0
        IL_000c: stloc.1
        IL_000d: br.s IL_0020
        IL_000f: ldloca.s V_2
        IL_0011: ldc.i4.s site#27
        IL_0013: call <Kcov>::Pc
        IL_0018: ldloc.0
        IL_0019: ldloc.1
        IL_001a: add
        IL_001b: stloc.0
        IL_001c: ldloc.1
        IL_001d: ldc.i4.1
        IL_001e: add
        IL_001f: stloc.1
        IL_0020: ldloca.s V_2
        IL_0022: ldc.i4.s site#28
        IL_0024: call <Kcov>::Pc
        IL_0029: ldloc.1
        IL_002a: ldarg.0
        IL_002b: stloc.s V_4
        IL_002d: stloc.3
        IL_002e: ldloca.s V_2
        IL_0030: ldloc.3
        IL_0031: ldloc.s V_4
        IL_0033: ldc.i4.s site#29
        IL_0035: call <Kcov>::Cmp4
        IL_003a: ldloc.3
        IL_003b: ldloc.s V_4
        IL_003d: blt.s IL_000f
        IL_003f: ldloca.s V_2
        IL_0041: ldc.i4.s site#30
        IL_0043: call <Kcov>::Pc
        IL_0048: ldloc.0
        IL_0049: ret

        """, samples.Listing("Loop"));

    [Fact]
    public void TryCatchFinallyBoundariesMoveToTheProbes() => Assert.Equal("""
        IL_0000: ldloca.s V_1
        IL_0002: ldc.i4.s site#31
        IL_0004: call <Kcov>::Pc
        IL_0009: ldarg.0
        IL_000a: call Int32::Parse
        IL_000f: stloc.0
        IL_0010: leave.s IL_0036
        IL_0012: ldloca.s V_1
        IL_0014: ldc.i4.s site#32
        IL_0016: call <Kcov>::Pc
        IL_001b: pop
        IL_001c: ldc.i4.m1
        IL_001d: stloc.0
        IL_001e: leave.s IL_0036
        IL_0020: ldloca.s V_1
        IL_0022: ldc.i4.s site#33
        IL_0024: call <Kcov>::Pc
        IL_0029: ldsfld Constructs::Counter
        IL_002e: ldc.i4.1
        IL_002f: add
        IL_0030: stsfld Constructs::Counter
        IL_0035: endfinally
        IL_0036: ldloca.s V_1
        IL_0038: ldc.i4.s site#34
        IL_003a: call <Kcov>::Pc
        IL_003f: ldloc.0
        IL_0040: ret
        .try IL_0000 to IL_0012 catch handler IL_0012 to IL_0020
        .try IL_0000 to IL_0020 finally handler IL_0020 to IL_0036

        """, samples.Listing("TryCatchFinally"));

    [Fact]
    public void FilterStartHandlerStartAndEndfilterGetProbes()
    {
        string listing = samples.Listing("Filter");
        Assert.Contains("""
            IL_000f: ldloca.s V_1
            IL_0011: ldc.i4.s site#36
            IL_0013: call <Kcov>::Pc
            IL_0018: isinst Exception
            IL_001d: dup
            IL_001e: brtrue.s IL_002d
            """, listing);
        Assert.Contains("""
            IL_005c: ldloca.s V_1
            IL_005e: ldc.i4.s site#41
            IL_0060: call <Kcov>::Pc
            IL_0065: endfilter
            IL_0067: ldloca.s V_1
            IL_0069: ldc.i4.s site#42
            """, listing);
        Assert.EndsWith("""
            .try IL_0000 to IL_000f filter filter IL_000f handler IL_0067 to IL_0075
            .try IL_0000 to IL_000f catch handler IL_0075 to IL_0083

            """, listing);
    }

    [Fact]
    public void VolatilePrefixStaysWithItsInstruction() => Assert.Contains("""
        IL_0004: call <Kcov>::Pc
        IL_0009: volatile.
        IL_000b: ldsfld Constructs::Volatile
        IL_0010: ldc.i4.3
        """, samples.Listing("VolatileRead"));

    [Fact]
    public void ReadonlyAndConstrainedPrefixesStayWithTheirInstructions() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.s site#47
        IL_0004: call <Kcov>::Pc
        IL_0009: ldarg.0
        IL_000a: ldarg.1
        IL_000b: readonly.
        IL_000d: ldelema T
        IL_0012: constrained. T
        IL_0018: callvirt Object::ToString
        IL_001d: ret

        """, samples.Listing("ReadonlyConstrained"));

    [Fact]
    public void AsyncStateMachineTryStartIsTheProbe()
    {
        string listing = IlListing.Of(samples.Result.AssemblyPath, "Constructs/<Async>d__17", "MoveNext", samples.Map.ModuleId);
        Assert.Contains("""
            IL_0010: ldloca.s V_5
            IL_0012: ldc.i4.s site#65
            IL_0014: call <Kcov>::Pc
            IL_0019: ldloc.0
            """, listing);
        Assert.EndsWith(".try IL_0010 to IL_00fa catch handler IL_00fa to IL_011c\n", listing);
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
        // A switch on a byte (Widths.SwitchByte) has its own array, of 8-bit cases.
        var bytes = (ulong[])type.GetField("Cases4x8", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.GetValue(null)!;
        Assert.Equal([4UL, 8, 0, 1, 2, 3], bytes);
    }

    [Fact]
    public void ComparisonOfTwoBytesIsCmp1() => Assert.Equal("""
        IL_0000: ldloca.s V_0
        IL_0002: ldc.i4.s site#109
        IL_0004: call <Kcov>::Pc
        IL_0009: ldarg.0
        IL_000a: ldarg.1
        IL_000b: stloc.2
        IL_000c: stloc.1
        IL_000d: ldloca.s V_0
        IL_000f: ldloc.1
        IL_0010: ldloc.2
        IL_0011: ldc.i4.s site#110
        IL_0013: call <Kcov>::Cmp1
        IL_0018: ldloc.1
        IL_0019: ldloc.2
        IL_001a: ceq
        IL_001c: ret

        """, IlListing.Of(samples.Result.AssemblyPath, "Widths", "ByteEqual", samples.Map.ModuleId));

    [Fact]
    public void SpanByteAgainstALiteralIsConstCmp1WithTheLiteralFirst() => Assert.Contains("""
        IL_0013: call ReadOnlySpan`1::get_Item
        IL_0018: ldind.u1
        IL_0019: ldc.i4.s 120
        IL_001b: stloc.3
        IL_001c: stloc.2
        IL_001d: ldloca.s V_1
        IL_001f: ldloc.3
        IL_0020: ldloc.2
        IL_0021: ldc.i4.s site#114
        IL_0023: call <Kcov>::ConstCmp1
        """, IlListing.Of(samples.Result.AssemblyPath, "Widths", "SpanByteIsX", samples.Map.ModuleId));

    [Fact]
    public void SwitchOnAByteTracesTheByteWithEightBitCases() => Assert.Contains("""
        IL_000c: ldarg.0
        IL_000d: dup
        IL_000e: conv.u1
        IL_000f: conv.u8
        IL_0010: ldsfld <KcovSwitchCases>::Cases4x8
        IL_0015: ldc.i4 site#140
        IL_001a: call <Kcov>::Switch
        """, IlListing.Of(samples.Result.AssemblyPath, "Widths", "SwitchByte", samples.Map.ModuleId));
}
