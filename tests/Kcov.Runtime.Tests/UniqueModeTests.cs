namespace Kcov.Tests;

/// <summary>
/// KCOV_UNIQUE_ENABLE's area: the first words a bitmap (one bit per site), the rest a trace whose
/// word 0 counts the PCs after it; a site writes its PC only the first time it runs after a reset.
/// The state machine's rows for the two ioctls are in <see cref="DeviceStateMachineTests"/>.
/// </summary>
public class UniqueModeTests
{
    /// <summary>Enables unique mode (<paramref name="bitmapWords"/> of <paramref name="words"/>) on a
    /// fresh thread, runs <paramref name="body"/> there, and returns the area's words.</summary>
    private static ulong[] Collect(int words, int bitmapWords, Action<KcovDevice, ulong[]> body)
    {
        ulong[] result = [];
        Threads.RunOnFreshThread(() =>
        {
            using var device = KcovDevice.Open();
            device.InitTrace(words);
            using var area = device.Map();
            device.EnableUnique(bitmapWords);
            var snapshot = new ulong[words];
            body(device, snapshot);
            device.Disable();
            result = area.Words.ToArray();
        });
        return result;
    }

    private static void Site(ulong pc, uint bit)
    {
        byte frame = 0;
        Trace.Pc(ref frame, pc, bit);
    }

    [Fact]
    public void EachSiteWritesItsPcOnceAndSetsItsBit()
    {
        var words = Collect(8, 1, (_, _) =>
        {
            for (int round = 0; round < 3; round++)
            {
                Site(0xA0, 0);
                Site(0xA1, 1);
                Site(0xA5, 5);
                Site(0xA0, 0);
            }
        });
        Assert.Equal(0b100011UL, words[0]);
        Assert.Equal([3UL, 0xA0, 0xA1, 0xA5, 0, 0, 0], words[1..]);
    }

    [Fact]
    public void BitsInEveryWordOfTheBitmapAreTheirOwn()
    {
        var words = Collect(8, 2, (_, _) =>
        {
            Site(0xB0, 63);
            Site(0xB1, 64);
            Site(0xB2, 127);
            Site(0xB1, 64);
        });
        Assert.Equal(1UL << 63, words[0]);
        Assert.Equal(1UL | 1UL << 63, words[1]);
        Assert.Equal([3UL, 0xB0, 0xB1, 0xB2, 0, 0], words[2..]);
    }

    [Fact]
    public void ResetTraceClearsTheBitmapAndTheCount()
    {
        var words = Collect(8, 1, (device, _) =>
        {
            Site(0xC0, 0);
            Site(0xC1, 1);
            device.ResetTrace();
            Site(0xC1, 1);
            Site(0xC1, 1);
        });
        Assert.Equal(0b10UL, words[0]);
        Assert.Equal([1UL, 0xC1], words[1..3]);
    }

    [Fact]
    public void AReaderMayResetByZeroingTheBitmapAndTheCount()
    {
        var words = Collect(8, 1, (_, _) => { });
        Threads.RunOnFreshThread(() =>
        {
            using var device = KcovDevice.Open();
            device.InitTrace(8);
            using var area = device.Map();
            device.EnableUnique(1);
            Site(0xD0, 0);
            area.Words[0] = 0;
            area.Words[1] = 0;
            Site(0xD0, 0);
            Assert.Equal([1UL, 1UL, 0xD0], area.Words[..3].ToArray());
            device.Disable();
        });
        Assert.Equal(new ulong[8], words);
    }

    [Fact]
    public void SitesPastTheBitmapAndHandWrittenPcsAreWrittenEveryTime()
    {
        var words = Collect(8, 1, (_, _) =>
        {
            Site(0xE0, 64); // one bitmap word holds bits 0-63
            Site(0xE0, 64);
            Trace.Pc(0xE1); // no bit at all
            Trace.Pc(0xE1);
        });
        Assert.Equal(0UL, words[0]);
        Assert.Equal([4UL, 0xE0, 0xE0, 0xE1, 0xE1, 0, 0], words[1..]);
    }

    [Fact]
    public void AFullTraceDropsPcsAndKeepsTheCountInBounds()
    {
        // 1 bitmap word + a trace of 3 words: room for 2 PCs.
        var words = Collect(4, 1, (_, _) =>
        {
            for (uint bit = 0; bit < 10; bit++)
                Site(0xF0 + bit, bit);
        });
        Assert.Equal([2UL, 0xF0, 0xF1], words[1..]);
        Assert.Equal(0x3FFUL, words[0]); // a dropped PC's site counts as seen until the next reset, as in kcov
    }

    [Fact]
    public void ComparisonsAreNotRecorded()
    {
        var words = Collect(8, 1, (_, _) =>
        {
            Trace.Cmp4(1, 2, 0x99);
            Trace.ConstCmp8(1, 2, 0x99);
            Trace.Switch(3, [1, 32, 3], 0x99);
            Site(0x10, 3);
        });
        Assert.Equal([0b1000UL, 1, 0x10, 0, 0, 0, 0, 0], words);
    }

    [Fact]
    public void AnotherThreadRecordsNothing()
    {
        var words = Collect(8, 1, (_, _) =>
        {
            var t = new Thread(() => Site(0x20, 2));
            t.Start();
            t.Join();
        });
        Assert.Equal(new ulong[8], words);
    }

    [Fact]
    public void AfterDisableTheDeviceTracesInTracePcWithoutABitmap()
    {
        Threads.RunOnFreshThread(() =>
        {
            using var device = KcovDevice.Open();
            device.InitTrace(8);
            using var area = device.Map();
            device.EnableUnique(1);
            Site(0x30, 0);
            device.Disable();
            area.Words.Clear();
            device.Enable(KcovMode.TracePc);
            Site(0x30, 0);
            Site(0x30, 0);
            device.Disable();
            Assert.Equal([2UL, 0x30, 0x30, 0, 0, 0, 0, 0], area.Words.ToArray());
        });
    }

    [Fact]
    public void RemoteSectionsCannotUseUniqueMode()
    {
        // kcov's remote sections collect in KCOV_TRACE_PC or KCOV_TRACE_CMP only; unique mode's
        // number (2 here, as kcov has no such trace_mode) is an unknown mode: EINVAL.
        Threads.RunOnFreshThread(() =>
        {
            using var device = KcovDevice.Open();
            device.InitTrace(8);
            using var area = device.Map();
            int r = device.Ioctl(KcovAbi.RemoteEnable, new KcovRemoteArg(2, 8, 0x0100000000000001, []).ToBytes());
            Assert.Equal(-Errno.EINVAL, r);
            Assert.Equal("INIT", device.State);
        });
    }
}
