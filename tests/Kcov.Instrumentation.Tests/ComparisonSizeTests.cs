using System.Reflection;
using Kcov.Coverage;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// kcov's size bits (KCOV_CMP_SIZE(n) = log2 of the operand size) for comparisons whose int32 stack
/// operands were loaded as bytes, chars and shorts: Cmp1/Cmp2 (ConstCmp1/2 with a literal that
/// fits), args zero-extended from that size; 4 bytes when one operand is not known to be as narrow.
/// </summary>
public sealed class ComparisonSizeTests(SamplesFixture samples) : IClassFixture<SamplesFixture>
{
    private const ulong Const = KcovAbi.CmpConst;
    private static readonly ulong Size1 = KcovAbi.CmpSize(0), Size2 = KcovAbi.CmpSize(1), Size4 = KcovAbi.CmpSize(2);

    public static TheoryData<string, object[], object, ulong, ulong, ulong> Cases => new()
    {
        { "ByteEqual", [(byte)3, (byte)250], false, Size1, 3, 250 },
        { "CharIsA", ['b'], false, Size2 | Const, 'a', 'b' },
        { "SpanByteIsX", ["ax"u8.ToArray(), 1], true, Size1 | Const, 'x', 'x' },
        { "StringCharIsLess", ["a<", 0], false, Size2 | Const, '<', 'a' },
        { "StringCharIsLess", ["\u4e2d", 0], false, Size2 | Const, '<', 0x4e2d },
        // Signed narrow values are recorded as their bits zero-extended from the size, as Cmp4 records a negative int.
        { "ShortLess", [(short)-2, (short)3], true, Size2, 0xfffe, 3 },
        { "SByteIsMinusOne", [(sbyte)-1], true, Size1 | Const, 0xff, 0xff },
        { "UShortLess", [ushort.MaxValue, (ushort)1], false, Size2, 0xffff, 1 },
        { "IsNumber", [1], false, Size1 | Const, 2, 1 },
        // brfalse on a byte: a comparison with 0 of the byte's size.
        { "NonZero", [(byte)7], 1, Size1 | Const, 0, 7 },
        { "LowByteIsZero", [0x12345], false, Size1 | Const, 0, 0x45 },
        // A byte compared with a char is a comparison of two chars: every byte is a char.
        { "ByteEqualsChar", [(byte)65, (char)0x141], false, Size2, 65, 0x141 },
        // Not known to be narrow: a literal that does not fit in a byte, an int, a signed and an unsigned byte
        // (-1 and 255 differ, their low bytes do not).
        { "ByteIs300", [(byte)44], false, Size4 | Const, 300, 44 },
        { "ByteEqualsInt", [(byte)1, 256], false, Size4, 1, 256 },
        { "SByteEqualsByte", [(sbyte)-1, (byte)255], false, Size4, 0xffffffff, 255 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void NarrowOperandsRecordTheirSize(string method, object[] args, object expected, ulong type, ulong arg1, ulong arg2)
    {
        var info = samples.Assembly.GetType("Widths")!.GetMethod(method)!;
        if (method == "IsNumber")
            args = [Enum.ToObject(samples.Assembly.GetType("Token")!, args[0])];
        object? result = null;
        var records = Recorder.Cmps(() => result = info.Invoke(null, args));
        Assert.Equal(expected, result);
        var record = Assert.Single(records);
        Assert.Equal((type, arg1, arg2), (record.Type, record.Arg1, record.Arg2));
        var site = samples.Map.Sites[SiteId.IndexOf(record.Pc)];
        Assert.Equal(SiteKind.Cmp, site.Kind);
        Assert.Equal("Widths." + method, samples.Map.Methods[site.Method].FullName);
    }

    [Fact]
    public void SwitchOnAByteRecordsEightBitCases()
    {
        var info = samples.Assembly.GetType("Widths")!.GetMethod("SwitchByte")!;
        var records = Recorder.Cmps(() => Assert.Equal(12, info.Invoke(null, [(byte)2])));
        Assert.Equal([(Size1 | Const, 0UL, 2UL), (Size1 | Const, 1UL, 2UL), (Size1 | Const, 2UL, 2UL), (Size1 | Const, 3UL, 2UL)],
            records.Select(r => (r.Type, r.Arg1, r.Arg2)));
        Assert.Single(records.Select(r => r.Pc).Distinct());
    }

    [Fact]
    public void StatisticsCountTheNarrowComparisons()
    {
        // Widths: ByteEqual, SpanByteIsX, SByteIsMinusOne, IsNumber, NonZero, LowByteIsZero; CharIsA,
        // StringCharIsLess, ShortLess, ByteEqualsChar, UShortLess. Constructs compares no narrow values.
        var statistics = samples.Result.Statistics;
        Assert.Equal((6, 5), (statistics.Cmp1Sites, statistics.Cmp2Sites));
    }
}
