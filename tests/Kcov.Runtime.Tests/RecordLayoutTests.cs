namespace Kcov.Tests;

/// <summary>The exact words the trace path writes, for both modes, and its bounds.</summary>
public class RecordLayoutTests
{
    private const ulong Size1 = 0, Size2 = 2, Size4 = 4, Size8 = 6, Const = 1;

    /// <summary>Enables a device of <paramref name="words"/> words on a fresh thread, runs
    /// <paramref name="body"/> there, and returns the area's words.</summary>
    private static ulong[] Collect(int words, KcovMode mode, Action body)
    {
        ulong[] result = [];
        Threads.RunOnFreshThread(() =>
        {
            using var device = KcovDevice.OpenEnabled(words, mode, out var area);
            using (area)
            {
                area.Words[0] = 0;
                body();
                device.Disable();
                result = area.Words.ToArray();
            }
        });
        return result;
    }

    [Fact]
    public void TracePcAppendsPcsAndIgnoresComparisons()
    {
        var words = Collect(8, KcovMode.TracePc, () =>
        {
            Trace.Pc(0x10);
            Trace.Cmp4(1, 2, 0x99);
            Trace.Pc(0x20);
            Trace.ConstCmp8(1, 2, 0x99);
            Trace.Switch(3, [1, 32, 3], 0x99);
            Trace.Pc(0x30);
        });
        Assert.Equal([3UL, 0x10, 0x20, 0x30, 0, 0, 0, 0], words);
    }

    [Fact]
    public void TraceCmpAppendsFourWordRecordsAndIgnoresPcs()
    {
        var words = Collect(1 + 8 * 4, KcovMode.TraceCmp, () =>
        {
            Trace.Cmp1(0x12, 0x34, 0xa1);
            Trace.Pc(0x99);
            Trace.Cmp2(0x1234, 0x5678, 0xa2);
            Trace.Cmp4(0x12345678, 0x9abcdef0, 0xa4);
            Trace.Cmp8(0x1122334455667788, 0x99aabbccddeeff00, 0xa8);
            Trace.ConstCmp1(0xff, 0x01, 0xb1);
            Trace.ConstCmp2(0xffff, 0x02, 0xb2);
            Trace.ConstCmp4(0xffffffff, 0x04, 0xb4);
            Trace.ConstCmp8(ulong.MaxValue, 0x08, 0xb8);
        });
        Assert.Equal(
        [
            8UL,
            Size1, 0x12, 0x34, 0xa1,
            Size2, 0x1234, 0x5678, 0xa2,
            Size4, 0x12345678, 0x9abcdef0, 0xa4,
            Size8, 0x1122334455667788, 0x99aabbccddeeff00, 0xa8,
            Size1 | Const, 0xff, 0x01, 0xb1,
            Size2 | Const, 0xffff, 0x02, 0xb2,
            Size4 | Const, 0xffffffff, 0x04, 0xb4,
            Size8 | Const, ulong.MaxValue, 0x08, 0xb8,
        ], words);
    }

    [Theory]
    [InlineData(8UL, Size1 | Const)]
    [InlineData(16UL, Size2 | Const)]
    [InlineData(32UL, Size4 | Const)]
    [InlineData(64UL, Size8 | Const)]
    public void SwitchWritesOneConstRecordPerCase(ulong bits, ulong type)
    {
        var words = Collect(1 + 4 * 4, KcovMode.TraceCmp, () => Trace.Switch(7, [3, bits, 10, 20, 30], 0x5e));
        Assert.Equal(
        [
            3UL,
            type, 10, 7, 0x5e,
            type, 20, 7, 0x5e,
            type, 30, 7, 0x5e,
            0, 0, 0, 0,
        ], words);
    }

    [Fact]
    public void SwitchWithAnUnknownSizeOrABadArrayRecordsNothing()
    {
        var words = Collect(1 + 4 * 4, KcovMode.TraceCmp, () =>
        {
            Trace.Switch(7, [1, 12, 10], 0x5e); // kcov ignores sizes other than 8/16/32/64
            Trace.Switch(7, null!, 0x5e);
            Trace.Switch(7, [5], 0x5e);
            Trace.Switch(7, [9, 32, 10], 0x5e); // a count beyond the array is clamped, not trusted
        });
        Assert.Equal(1UL, words[0]);
        Assert.Equal([Size4 | Const, 10, 7, 0x5e], words[1..5]);
    }

    [Fact]
    public void AreaOfTwoWordsHoldsOnePc()
    {
        var words = Collect(2, KcovMode.TracePc, () =>
        {
            Trace.Pc(0x1);
            Trace.Pc(0x2);
            Trace.Pc(0x3);
        });
        Assert.Equal([1UL, 0x1], words);
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(9, 8)]
    public void FullPcAreaDropsAndKeepsTheCountInBounds(int size, int kept)
    {
        var words = Collect(size, KcovMode.TracePc, () =>
        {
            for (ulong pc = 1; pc <= 20; pc++)
                Trace.Pc(pc);
        });
        Assert.Equal((ulong)kept, words[0]);
        Assert.Equal(Enumerable.Range(1, kept).Select(i => (ulong)i), words[1..]);
    }

    [Theory]
    [InlineData(4, 0)] // a cmp record needs 5 words: the count and four
    [InlineData(5, 1)]
    [InlineData(8, 1)]
    [InlineData(9, 2)]
    [InlineData(12, 2)]
    [InlineData(13, 3)]
    public void FullCmpAreaDropsWholeRecords(int size, int kept)
    {
        var words = Collect(size, KcovMode.TraceCmp, () =>
        {
            for (ulong i = 1; i <= 5; i++)
                Trace.Cmp8(i, i, i);
        });
        Assert.Equal((ulong)kept, words[0]);
        // Nothing of a record that did not fit is written.
        Assert.All(words[(1 + kept * 4)..], w => Assert.Equal(0UL, w));
    }

    [Fact]
    public void ResettingTheCountRestartsTheTrace()
    {
        ulong[] seen = [];
        Threads.RunOnFreshThread(() =>
        {
            using var device = KcovDevice.OpenEnabled(8, KcovMode.TracePc, out var area);
            using (area)
            {
                Trace.Pc(0xa);
                Trace.Pc(0xb);
                area.Words[0] = 0; // what the fuzzer does between inputs
                Trace.Pc(0xc);
                seen = area.Words[..3].ToArray();
                device.Disable();
            }
        });
        Assert.Equal([1UL, 0xc, 0xb], seen);
    }

    [Fact]
    public void ACountScribbledByTheReaderNeverWritesOutOfBounds()
    {
        ulong[] pcWords = [], cmpWords = [];
        Threads.RunOnFreshThread(() =>
        {
            using var device = KcovDevice.OpenEnabled(8, KcovMode.TracePc, out var area);
            using (area)
            {
                area.Words[0] = 100;
                Trace.Pc(0xa);
                area.Words[0] = ulong.MaxValue - 1;
                Trace.Pc(0xb);
                pcWords = area.Words.ToArray();
                device.Disable();
                device.Enable(KcovMode.TraceCmp);
                area.Words[0] = ulong.MaxValue / 2; // count*4 would overflow
                Trace.Cmp4(1, 2, 3);
                cmpWords = area.Words.ToArray();
                device.Disable();
            }
        });
        Assert.Equal([ulong.MaxValue - 1, 0, 0, 0, 0, 0, 0, 0], pcWords);
        Assert.Equal([ulong.MaxValue / 2, 0, 0, 0, 0, 0, 0, 0], cmpWords);
    }

    [Fact]
    public void AnUnboundThreadRecordsNothing()
    {
        // Nothing to observe directly on an unbound thread, so bind a device to another thread
        // and check that this thread's trace calls reach no area and do not fail.
        using var other = new ParkedThread();
        using var device = KcovDevice.Open();
        device.InitTrace(8);
        using var area = device.Map();
        other.Run(() => device.Enable(KcovMode.TracePc));
        Threads.RunOnFreshThread(() =>
        {
            Trace.Pc(1);
            Trace.Cmp4(1, 2, 3);
            Trace.Switch(1, [1, 32, 1], 2);
        });
        Assert.Equal(0UL, area.Words[0]);
        other.Run(() => device.Disable());
    }
}
