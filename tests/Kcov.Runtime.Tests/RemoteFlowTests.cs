using System.Collections.Concurrent;

namespace Kcov.Tests;

/// <summary>
/// Beyond kcov: the common handle flows with the ExecutionContext (kcov_task_init's
/// inheritance at fork), and a remote section follows its async flow across awaits,
/// thread hops and child tasks.
/// </summary>
public class RemoteFlowTests
{
    private static ulong Pc(ulong part, ulong step) => 0xa5_0000_0000UL | part << 16 | step;

    [Fact]
    public async Task ASectionFollowsItsFlowAcrossAwaitsThreadsAndChildren()
    {
        ulong common = Handles.Common();
        using var remote = new RemoteDevice(8192, KcovMode.TracePc, 256, [], common);
        using var hopA = new ParkedThread();
        using var hopB = new ParkedThread();
        var threads = new ConcurrentDictionary<int, bool>();
        var expected = new List<ulong>();
        void Step(ulong part, ulong step)
        {
            Trace.Pc(Pc(part, step));
            threads[Environment.CurrentManagedThreadId] = true;
        }

        // The flow starts on the pool: the owner thread itself is wired to the device.
        await remote.Owner.Run(() => Task.Run(async () =>
        {
            using (Remote.Section(Remote.CommonHandle))
            {
                Step(0, 0);
                await hopA.Hop();
                Step(0, 1);
                await hopB.Hop();
                Step(0, 2);
                await Task.Delay(1);
                Step(0, 3);
                await Task.Yield();
                Step(0, 4);
                await Task.WhenAll(Enumerable.Range(1, 6).Select(c => Task.Run(async () =>
                {
                    Step((ulong)c, 0);
                    await (c % 2 == 0 ? hopA.Hop() : hopB.Hop());
                    Step((ulong)c, 1);
                    await Task.Yield();
                    Step((ulong)c, 2);
                    await Task.Delay(1);
                    Step((ulong)c, 3);
                })));
                Step(0, 5);
            }
        }));

        for (ulong step = 0; step <= 5; step++)
            expected.Add(Pc(0, step));
        for (ulong c = 1; c <= 6; c++)
            for (ulong step = 0; step <= 3; step++)
                expected.Add(Pc(c, step));
        // Every PC exactly once: nothing lost at a hop, nothing appended twice.
        Assert.Equal(expected.Order(), remote.Entries().Order());
        Assert.Contains(hopA.Thread.ManagedThreadId, threads.Keys);
        Assert.Contains(hopB.Thread.ManagedThreadId, threads.Keys);
        Assert.True(threads.Count >= 3, $"the flow ran on {threads.Count} threads");
    }

    [Fact]
    public async Task AsyncSectionOfAGlobalHandleCollectsAcrossHops()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(256, KcovMode.TraceCmp, 256, [usb]);
        using var hop = new ParkedThread();
        await Task.Run(async () =>
        {
            Remote.Start(usb);
            Trace.ConstCmp4(1, 2, 0x10);
            await hop.Hop();
            Trace.ConstCmp4(3, 4, 0x11);
            Remote.Stop();
            Trace.ConstCmp4(5, 6, 0x12); // after the section
        });
        Assert.Equal([5UL, 1, 2, 0x10, 5, 3, 4, 0x11], remote.Entries(4));
    }

    [Fact]
    public void TheCommonHandleIsInheritedByEverythingTheFlowSpawns()
    {
        ulong common = Handles.Common();
        using var remote = new RemoteDevice(1024, KcovMode.TracePc, 64, [], common);
        var seen = new ConcurrentDictionary<string, ulong>();

        // Each spawned piece of work reads the handle and runs a section with it.
        void Work(string where, ulong pc)
        {
            seen[where] = Remote.CommonHandle;
            using (Remote.Section(Remote.CommonHandle))
                Trace.Pc(pc);
        }

        remote.Owner.Run(() =>
        {
            Assert.Equal(common, Remote.CommonHandle);
            Task.Run(() => Work("Task.Run", 0x1)).Wait();

            using var queued = new ManualResetEventSlim();
            ThreadPool.QueueUserWorkItem(_ => { Work("QueueUserWorkItem", 0x2); queued.Set(); });
            queued.Wait();

            var thread = new Thread(() => Work("new Thread", 0x3));
            thread.Start();
            thread.Join();

            using var fired = new ManualResetEventSlim();
            using (new Timer(_ => { Work("Timer", 0x4); fired.Set(); }, null, 1, Timeout.Infinite))
                fired.Wait();

            AwaitContinuation().Wait();
        });

        async Task AwaitContinuation()
        {
            await Task.Yield();
            Work("await continuation", 0x5);
        }

        Assert.Equal(5, seen.Count);
        Assert.All(seen, kv => Assert.True(kv.Value == common, $"{kv.Key} saw 0x{kv.Value:x}"));
        Assert.Equal([0x1UL, 0x2, 0x3, 0x4, 0x5], remote.Entries().Order().ToArray());
    }

    [Fact]
    public void DisableClearsTheCommonHandleAndWorkSpawnedAfterwardsIsNotCollected()
    {
        ulong common = Handles.Common();
        using var remote = new RemoteDevice(1024, KcovMode.TracePc, 64, [], common);
        ulong after = ulong.MaxValue;
        remote.Disable();
        remote.Owner.Run(() =>
        {
            Assert.Equal(0UL, Remote.CommonHandle);
            Task.Run(() =>
            {
                after = Remote.CommonHandle;
                using (Remote.Section(common)) // the old value: no device holds it any more
                    Trace.Pc(0x1);
            }).Wait();
        });
        Assert.Equal(0UL, after);
        Assert.Equal(0UL, remote.Area.Words[0]);
    }

    [Fact]
    public void WorkSuppressingTheFlowInheritsNothing()
    {
        ulong common = Handles.Common();
        using var remote = new RemoteDevice(1024, KcovMode.TracePc, 64, [], common);
        ulong inherited = ulong.MaxValue;
        remote.Owner.Run(() =>
        {
            using var done = new ManualResetEventSlim();
            ThreadPool.UnsafeQueueUserWorkItem(_ => { inherited = Remote.CommonHandle; done.Set(); }, null);
            done.Wait();
        });
        Assert.Equal(0UL, inherited);
    }

    [Fact]
    public async Task TwoDevicesWithTwoCommonHandlesNeverSeeEachOthersPcs()
    {
        // Both owners drive their own spawned workers at the same time.
        const int Workers = 8, Sections = 50, PcsPerSection = 20;
        ulong c1 = Handles.Common(), c2 = Handles.Common();
        const int Words = Workers * Sections * PcsPerSection + 1;
        using var r1 = new RemoteDevice(Words, KcovMode.TracePc, PcsPerSection + 1, [], c1);
        using var r2 = new RemoteDevice(Words, KcovMode.TracePc, PcsPerSection + 1, [], c2);

        static Task Drive(RemoteDevice r, ulong tag) => r.Owner.Run(() =>
            Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
            {
                for (int s = 0; s < Sections; s++)
                {
                    using (Remote.Section(Remote.CommonHandle))
                    {
                        for (int i = 0; i < PcsPerSection; i++)
                            Trace.Pc(tag | (ulong)w << 16 | (uint)i);
                        if (s % 7 == 0)
                            await Task.Yield();
                    }
                }
            }))));

        await Task.WhenAll(Drive(r1, 0x1111UL << 48), Drive(r2, 0x2222UL << 48));

        foreach (var (r, tag) in new[] { (r1, 0x1111UL), (r2, 0x2222UL) })
        {
            var entries = r.Entries();
            Assert.Equal(Workers * Sections * PcsPerSection, entries.Length);
            Assert.All(entries, pc => Assert.Equal(tag, pc >> 48));
        }
    }
}
