namespace Kcov.Tests;

/// <summary>Coverage is per thread: a device sees its bound thread's PCs and nothing else.</summary>
public class IsolationTests
{
    private const int Iterations = 200_000;

    [Fact]
    public void TwoThreadsWithTwoDevicesNeverSeeEachOthersPcs()
    {
        // Both threads trace at the same time; each area must hold only its own pattern.
        const ulong TagA = 0xaaaa_0000_0000_0000, TagB = 0xbbbb_0000_0000_0000;
        using var start = new Barrier(2);
        ulong[] a = [], b = [];
        var ta = new Thread(() => a = TraceTagged(TagA, start));
        var tb = new Thread(() => b = TraceTagged(TagB, start));
        ta.Start(); tb.Start();
        ta.Join(); tb.Join();

        AssertOnly(a, TagA);
        AssertOnly(b, TagB);
    }

    private static ulong[] TraceTagged(ulong tag, Barrier start)
    {
        using var device = KcovDevice.OpenEnabled(Iterations + 1, KcovMode.TracePc, out var area);
        using (area)
        {
            area.Words[0] = 0;
            start.SignalAndWait();
            for (ulong i = 0; i < Iterations; i++)
                Trace.Pc(tag | i);
            device.Disable();
            return area.Words.ToArray();
        }
    }

    private static void AssertOnly(ulong[] words, ulong tag)
    {
        Assert.Equal((ulong)Iterations, words[0]);
        for (int i = 1; i <= Iterations; i++)
        {
            ulong expected = tag | (uint)(i - 1);
            if (words[i] != expected)
                Assert.Fail($"word {i} is 0x{words[i]:x}, expected 0x{expected:x}");
        }
    }

    [Fact]
    public void CoverageOfThreadBIsNotRecordedOnThreadAsDevice()
    {
        using var a = new ParkedThread();
        using var bDone = new ManualResetEventSlim();
        using var device = KcovDevice.Open();
        device.InitTrace(64);
        using var area = device.Map();
        a.Run(() => device.Enable(KcovMode.TracePc));

        // Thread B runs the "same code" as A while A is bound: B has no device.
        var b = new Thread(() =>
        {
            for (ulong pc = 0xb0; pc < 0xc0; pc++)
                Trace.Pc(pc);
            bDone.Set();
        });
        b.Start();
        a.Run(() => Trace.Pc(0xa0));
        bDone.Wait();
        a.Run(() => Trace.Pc(0xa1));
        b.Join();

        Assert.Equal([2UL, 0xa0, 0xa1], area.Words[..3].ToArray());
        a.Run(() => device.Disable());
    }

    [Fact]
    public void ManyThreadsEachWithADeviceStayIsolated()
    {
        // Bounded stress: 8 threads x 5 rounds of enable/trace/disable on their own devices.
        const int ThreadCount = 8, Rounds = 5, PcsPerRound = 10_000;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var threads = Enumerable.Range(0, ThreadCount).Select(n => new Thread(() =>
        {
            ulong tag = (ulong)(n + 1) << 48;
            using var device = KcovDevice.Open();
            device.InitTrace(PcsPerRound + 1);
            using var area = device.Map();
            for (int round = 0; round < Rounds; round++)
            {
                device.Enable(round % 2 == 0 ? KcovMode.TracePc : KcovMode.TraceCmp);
                area.Words[0] = 0;
                for (ulong i = 0; i < PcsPerRound; i++)
                {
                    Trace.Pc(tag | i);
                    Trace.Cmp8(tag | i, tag | i, tag | i);
                }
                device.Disable();
                var words = area.Words;
                ulong expected = round % 2 == 0 ? PcsPerRound : PcsPerRound / 4UL;
                if (words[0] != expected)
                    failures.Enqueue($"thread {n} round {round}: count {words[0]}, expected {expected}");
                for (int i = 1; i < words.Length; i++)
                {
                    if ((words[i] & 0xffff_0000_0000_0000) != tag && (round % 2 == 0 || i % 4 != 1))
                    {
                        failures.Enqueue($"thread {n} round {round}: foreign word 0x{words[i]:x} at {i}");
                        break;
                    }
                }
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(failures);
    }
}
