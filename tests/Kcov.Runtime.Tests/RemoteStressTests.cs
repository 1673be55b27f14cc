namespace Kcov.Tests;

/// <summary>
/// Many worker threads run remote sections in a loop while the owner disables, re-enables
/// (alternating modes), closes and reopens the device. Bounded by rounds, not time. What must
/// hold: no crash; the count never leaves the area; every entry in the area belongs to a
/// section that was appended whole and in order (only the last one may be cut by the area's
/// end); no reference is leaked.
/// </summary>
public class RemoteStressTests
{
    private const int Workers = 8;
    private const int Rounds = 240;
    private const int Words = 256; // small, so truncation happens all the time
    private const ulong CmpKey = 0x5a5a_5a5a_5a5a_5a5a;

    // An entry names its section: worker (8 bits), section number (32 bits), index (12 bits).
    private static ulong Id(ulong worker, ulong section, ulong index) => 0x5UL << 60 | worker << 44 | (section & 0xffff_ffff) << 12 | index;
    private static (ulong Section, ulong Index) Decode(ulong id) => (id >> 12, id & 0xfff);
    private static int Length(ulong sectionNumber) => 1 + (int)(sectionNumber % 13);

    [Fact]
    public void SectionsRaceDisableReenableCloseAndReopen()
    {
        ulong handle = Handles.Usb();
        bool stop = false;
        long completed = 0;
        var workers = Enumerable.Range(0, Workers).Select(w => new Thread(() =>
        {
            for (ulong s = 0; !Volatile.Read(ref stop); s++)
            {
                Remote.Start(Volatile.Read(ref handle));
                for (int i = 0; i < Length(s); i++)
                {
                    ulong id = Id((ulong)w, s, (ulong)i);
                    Trace.Pc(id);
                    Trace.Cmp8(id, ~id, id ^ CmpKey);
                }
                Remote.Stop();
                Interlocked.Increment(ref completed);
            }
        }) { IsBackground = true }).ToArray();
        foreach (var t in workers) t.Start();

        var owner = new ParkedThread();
        var device = Open();
        var area = device.Map();
        var retired = new List<KcovDevice>();
        try
        {
            for (int round = 0; round < Rounds; round++)
            {
                var mode = round % 2 == 0 ? KcovMode.TracePc : KcovMode.TraceCmp;
                area.Words[0] = 0;
                owner.Run(() => device.RemoteEnable(mode, 64, [Volatile.Read(ref handle)]));

                // Let some sections finish while enabled, checking the count as they land.
                long target = Interlocked.Read(ref completed) + 2 * Workers;
                Assert.True(SpinWait.SpinUntil(() =>
                {
                    Assert.True(Volatile.Read(ref area.Words[0]) <= Capacity(mode), "the count left the area");
                    return Interlocked.Read(ref completed) >= target;
                }, TimeSpan.FromSeconds(30)), "workers stalled");

                if (round % 25 == 24)
                {
                    // Close while enabled and while sections run: the owner stays bound to the closed
                    // device until its thread ends, so it retires; the handle moves to a new device.
                    device.Dispose();
                    owner.Dispose();
                    owner = new ParkedThread();
                    retired.Add(device);
                    Volatile.Write(ref handle, Handles.Usb());
                    CheckArea(area, mode);
                    area.Dispose();
                    device = Open();
                    area = device.Map();
                    continue;
                }

                owner.Run(() => device.Disable());
                CheckArea(area, mode);
                if (round % 10 == 9)
                {
                    // Close after disable, while sections of this device may still be running.
                    retired.Add(device);
                    device.Dispose();
                    area.Dispose();
                    device = Open();
                    area = device.Map();
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            foreach (var t in workers) t.Join();
        }

        // No section holds a reference any more; the live device has only its descriptor.
        Assert.Equal(1, device.RefCount);
        owner.Dispose();
        DeviceLifetimeTests.WaitForFinalizers(() => retired.All(d => d.RefCount == 0));
        Assert.All(retired, d => Assert.Equal(0, d.RefCount));
        area.Dispose();
        device.Dispose();
    }

    private static KcovDevice Open()
    {
        var device = KcovDevice.Open();
        device.InitTrace(Words);
        return device;
    }

    private static ulong Capacity(KcovMode mode) => mode == KcovMode.TracePc ? Words - 1UL : (Words - 1UL) / 4;

    /// <summary>Every entry belongs to a section appended whole and in order; only the last run may be cut.</summary>
    private static void CheckArea(KcovArea area, KcovMode mode)
    {
        var words = area.Words;
        ulong count = words[0];
        Assert.True(count <= Capacity(mode), $"count {count} is beyond the area");
        var ids = new List<ulong>();
        for (int e = 0; e < (int)count; e++)
        {
            if (mode == KcovMode.TracePc)
            {
                ids.Add(words[1 + e]);
                continue;
            }
            var r = words.Slice(1 + 4 * e, 4);
            Assert.True(r[0] == KcovAbi.CmpSize(3) && r[2] == ~r[1] && r[3] == (r[1] ^ CmpKey),
                $"record {e} is not one a section wrote: {r[0]:x} {r[1]:x} {r[2]:x} {r[3]:x}");
            ids.Add(r[1]);
        }
        int i = 0;
        while (i < ids.Count)
        {
            var (section, index) = Decode(ids[i]);
            Assert.True(ids[i] >> 60 == 0x5 && index == 0, $"entry {i} (0x{ids[i]:x}) does not start a section");
            int length = Length(section & 0xffff_ffff);
            int run = 1;
            while (i + run < ids.Count && Decode(ids[i + run]) == (section, (ulong)run))
                run++;
            bool last = i + run == ids.Count;
            Assert.True(run == length || (last && run < length),
                $"section 0x{section:x} has {run} of its {length} entries at {i}, and is not the cut last one");
            i += run;
        }
    }
}
