using Kcov.Fuzzing.Mutation;

namespace Kcov.Fuzzing.Tests;

public class CmpHintsTests
{
    private static ulong[] Area(params (ulong Type, ulong Arg1, ulong Arg2)[] records)
    {
        var area = new ulong[1 + records.Length * KcovAbi.WordsPerCmp];
        area[0] = (ulong)records.Length;
        for (int i = 0; i < records.Length; i++)
        {
            area[1 + i * 4] = records[i].Type;
            area[2 + i * 4] = records[i].Arg1;
            area[3 + i * 4] = records[i].Arg2;
            area[4 + i * 4] = 0x99;
        }
        return area;
    }

    [Fact]
    public void ConstantReplacesTheInputOperandInBothByteOrders()
    {
        var area = Area((KcovAbi.CmpSize(2) | KcovAbi.CmpConst, 0xDEADBEEF, 0x41424344));
        // "DCBA" is 0x41424344 little-endian; "ABCD" big-endian.
        var le = CmpHints.Candidates(area, "xDCBAy"u8, 100);
        Assert.Contains(le, c => c.SequenceEqual(new byte[] { (byte)'x', 0xEF, 0xBE, 0xAD, 0xDE, (byte)'y' }));
        var be = CmpHints.Candidates(area, "ABCD"u8, 100);
        Assert.Contains(be, c => c.SequenceEqual(new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }));
    }

    [Fact]
    public void TheConstantItselfIsNeverTheOperandReplaced()
    {
        // Input contains the constant, not the variable operand: nothing to substitute.
        var area = Area((KcovAbi.CmpSize(2) | KcovAbi.CmpConst, 0x01020304, 0x0A0B0C0D));
        Assert.Empty(CmpHints.Candidates(area, new byte[] { 4, 3, 2, 1 }, 100));
    }

    [Fact]
    public void NonConstantComparisonsSubstituteBothWays()
    {
        // A length field (7) compared with the actual length (5): both substitutions appear.
        var area = Area((KcovAbi.CmpSize(1), 7, 5));
        var candidates = CmpHints.Candidates(area, new byte[] { 7, 0, 5 }, 100);
        Assert.Contains(candidates, c => c.SequenceEqual(new byte[] { 5, 0, 5 }));
        Assert.Contains(candidates, c => c.SequenceEqual(new byte[] { 7, 0, 7 }));
    }

    [Fact]
    public void AByteWidenedToAnIntIsFoundAsOneByte()
    {
        var area = Area((KcovAbi.CmpSize(2) | KcovAbi.CmpConst, 'k', 'a'));
        var candidates = CmpHints.Candidates(area, "zaz"u8, 100);
        Assert.Contains(candidates, c => c.SequenceEqual("zkz"u8.ToArray()));
    }

    [Fact]
    public void AOneByteRecordWritesOneByte()
    {
        // trace-cmp of `(sbyte)b == -1` is ConstCmp1(0xff, b): the hint puts 0xff in one byte, never
        // the 4 or 8 bytes of a widened -1 (0xffffffff), which would overwrite the input's neighbours.
        var area = Area((KcovAbi.CmpSize(0) | KcovAbi.CmpConst, 0xff, 'A'));
        var input = "xA\0\0y"u8.ToArray();
        var candidates = CmpHints.Candidates(area, input, 100);
        Assert.Equal([[(byte)'x', 0xff, 0, 0, (byte)'y']], candidates);
    }

    [Fact]
    public void ATwoByteRecordOfACharIsFoundInBothByteOrders()
    {
        // `s[i] == '<'` on a string is ConstCmp2('<', s[i]); a UTF-16 input holds the char little-endian.
        var area = Area((KcovAbi.CmpSize(1) | KcovAbi.CmpConst, '<', 0x4e2d));
        var candidates = CmpHints.Candidates(area, new byte[] { 0x2d, 0x4e, 0x4e, 0x2d }, 100);
        Assert.Contains(candidates, c => c.SequenceEqual(new byte[] { (byte)'<', 0, 0x4e, 0x2d }));
        Assert.Contains(candidates, c => c.SequenceEqual(new byte[] { 0x2d, 0x4e, 0, (byte)'<' }));
        Assert.All(candidates, c => Assert.Equal(4, c.Length));
    }

    [Fact]
    public void CandidatesAreCappedAndDistinct()
    {
        var area = Area((KcovAbi.CmpSize(0) | KcovAbi.CmpConst, 1, 0));
        var candidates = CmpHints.Candidates(area, new byte[64], 5);
        Assert.Equal(5, candidates.Count);
        Assert.Equal(5, candidates.Select(Convert.ToHexString).Distinct().Count());
    }
}
