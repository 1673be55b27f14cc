namespace Kcov.Tests;

/// <summary>
/// The two races of the device and of remote sections, forced: <see cref="RaceHooks"/> park one
/// thread inside the window while the other side runs through it, so each interleaving happens
/// every run rather than rarely. Then bounded stress runs with random delays at the same points.
/// The hooks are process-wide, so this class's tests run one at a time (one class) and every
/// hook acts only on this test's own device.
/// </summary>
public class RaceTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>
    /// close() on one thread, KCOV_ENABLE on another: the enabling thread gets past the point where
    /// it could see the device open, then the close drops the last reference; the enable must not
    /// bind the thread to the area the close is about to unmap (the next traced block would segfault).
    /// </summary>
    [Fact]
    public void EnableRacingCloseIsRefusedAndNeverBindsTheFreedArea()
    {
        var device = KcovDevice.Open();
        device.InitTrace(16);
        device.Map().Dispose();
        int result = 0;
        bool bound = false;
        var (enabler, closed) = RaceWithClose(device, () =>
        {
            result = device.Ioctl(KcovAbi.Enable, KcovAbi.TracePc);
            // Never trace here: on the racy code the area is unmapped under this thread.
            bound = KcovTask.Current?.Mode == KcovTask.ModeTracePc;
        });

        Assert.True(closed, "the close did not reach its last reference");
        Assert.Equal(-Errno.EBADF, result);
        Assert.False(bound, "the thread was bound to a device whose area was being freed");
        Assert.Equal(0, device.RefCount);
        Assert.False(device.HasArea);
        enabler.Join();
    }

    /// <summary>The same window with mmap: the area a late mmap creates would never be freed (nor its name removed).</summary>
    [Fact]
    public void MmapRacingCloseIsRefusedAndCreatesNoArea()
    {
        var device = KcovDevice.Open();
        device.InitTrace(16);
        int result = 0;
        KcovArea? area = null;
        RaceWithClose(device, () => result = device.Mmap(16 * sizeof(ulong), 0, out area));

        string? leaked = area?.SharedName;
        area?.Dispose();
        Assert.Equal(-Errno.EBADF, result);
        Assert.Null(leaked);
        Assert.False(device.HasArea, "the device has an area after its last reference went");
    }

    /// <summary>
    /// A thread joins a section's flow (here: runs its captured ExecutionContext) just as the section
    /// stops. Whatever that part records must be in the area when Stop returns, or never: appended
    /// later, it would land in the next collection (the fuzzer's next input).
    /// </summary>
    [Fact]
    public void APartStartingAsTheSectionStopsIsNeverAppendedAfterStopReturns()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, 16, [usb]);
        using var flowThread = new ParkedThread();
        using var atGate = new ManualResetEventSlim();
        using var stopReturned = new ManualResetEventSlim();
        Thread? late = null;
        ExecutionContext? flow = null;
        RaceHooks.PartStarting = section =>
        {
            if (section.Kcov != remote.Device || Thread.CurrentThread != late)
                return;
            atGate.Set();
            stopReturned.Wait(Patience);
        };
        try
        {
            flowThread.Run(() =>
            {
                Remote.Start(usb);
                Trace.Pc(0x1);
                flow = ExecutionContext.Capture();
            });
            late = new Thread(() => ExecutionContext.Run(flow!, _ => Trace.Pc(0xbad), null));
            late.Start();
            Assert.True(atGate.Wait(Patience), "the late part never reached the start of its part");

            flowThread.Run(Remote.Stop);
            ulong[] atStop = remote.Entries();
            stopReturned.Set();
            late.Join();

            Assert.Equal([0x1UL], atStop);
            Assert.Equal(atStop, remote.Entries());
        }
        finally
        {
            RaceHooks.PartStarting = null;
            stopReturned.Set();
        }
    }

    /// <summary>
    /// Stress, bounded by rounds: close against enable and mmap with random delays at both ends of
    /// the window. A thread that enables traces right away, so binding a freed area crashes the process.
    /// </summary>
    [Fact]
    public void CloseAgainstEnableAndMmapUnderRandomDelays()
    {
        const int Rounds = 1500;
        KcovDevice? current = null;
        RaceHooks.DeviceLocking = d => { if (d == Volatile.Read(ref current)) Jitter(); };
        RaceHooks.DeviceFreeing = d => { if (d == Volatile.Read(ref current)) Jitter(); };
        try
        {
            int enabled = 0;
            for (int round = 0; round < Rounds; round++)
            {
                var device = KcovDevice.Open();
                device.InitTrace(16);
                if (round % 2 == 0)
                    device.Map().Dispose();
                Volatile.Write(ref current, device);
                using var go = new Barrier(2);
                bool mmap = round % 2 == 1;
                var racer = new Thread(() =>
                {
                    go.SignalAndWait();
                    if (mmap)
                    {
                        if (device.Mmap(16 * sizeof(ulong), 0, out var area) == 0)
                            area!.Dispose();
                        return;
                    }
                    if (device.Ioctl(KcovAbi.Enable, KcovAbi.TracePc) != 0)
                        return;
                    Interlocked.Increment(ref enabled);
                    for (ulong pc = 1; pc <= 8; pc++)
                        Trace.Pc(pc);
                    // EBADF once the close got in first: the thread stays bound until it ends.
                    device.Ioctl(KcovAbi.Disable, 0);
                });
                racer.Start();
                go.SignalAndWait();
                Jitter();
                device.Dispose();
                racer.Join();
                // The last reference may be dropped on another thread (the racer's exit), which frees
                // the area just after the count reaches 0: wait for both, then insist on both.
                DeviceLifetimeTests.WaitForFinalizers(() => device.RefCount == 0 && !device.HasArea);
                Assert.Equal(0, device.RefCount);
                Assert.False(device.HasArea, $"round {round}: an area outlived the device");
            }
            Assert.True(enabled > 0, "no enable ever won the race: the stress did not exercise tracing");
        }
        finally
        {
            RaceHooks.DeviceLocking = null;
            RaceHooks.DeviceFreeing = null;
        }
    }

    /// <summary>
    /// Stress, bounded by sections: children of a section join it (start their parts) while it stops,
    /// with random delays at the start of each part. What the area holds when Stop returns is final.
    /// </summary>
    [Fact]
    public async Task SectionsStoppingWhileChildrenJoinUnderRandomDelays()
    {
        const int Sections = 150, Children = 6;
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(1 << 14, KcovMode.TracePc, 64, [usb]);
        RaceHooks.PartStarting = section =>
        {
            if (section.Kcov != remote.Device)
                return;
            if (Random.Shared.Next(4) == 0)
                Thread.Sleep(1);
            else
                Jitter();
        };
        try
        {
            for (int s = 0; s < Sections; s++)
            {
                remote.Area.Words[0] = 0;
                ulong[] atStop = [];
                Task[] children = [];
                await Task.Run(() =>
                {
                    Remote.Start(usb);
                    children = Enumerable.Range(0, Children).Select(c => Task.Run(async () =>
                    {
                        Trace.Pc((ulong)(c + 1));
                        await Task.Yield();
                        Trace.Pc((ulong)(c + 0x100));
                    })).ToArray();
                    Thread.SpinWait(Random.Shared.Next(1, 20000));
                    Remote.Stop();
                    atStop = remote.Entries();
                });
                await Task.WhenAll(children);
                Assert.Equal(atStop, remote.Entries());
            }
        }
        finally
        {
            RaceHooks.PartStarting = null;
        }
    }

    /// <summary>
    /// Runs <paramref name="racer"/> on its own thread so that it waits at the device lock until a close on
    /// this thread has dropped the last reference, and the close waits there until the racer is done.
    /// </summary>
    private static (Thread Racer, bool Closed) RaceWithClose(KcovDevice device, Action racer)
    {
        using var atLock = new ManualResetEventSlim();
        using var freeing = new ManualResetEventSlim();
        using var racerDone = new ManualResetEventSlim();
        Thread? thread = null;
        RaceHooks.DeviceLocking = d =>
        {
            if (d != device || Thread.CurrentThread != thread)
                return;
            atLock.Set();
            freeing.Wait(Patience);
        };
        RaceHooks.DeviceFreeing = d =>
        {
            if (d != device || freeing.IsSet)
                return;
            freeing.Set();
            racerDone.Wait(Patience);
        };
        try
        {
            thread = new Thread(() =>
            {
                try { racer(); }
                finally { racerDone.Set(); }
            });
            thread.Start();
            Assert.True(atLock.Wait(Patience), "the racer never reached the device lock");
            device.Dispose();
            thread.Join();
            return (thread, freeing.IsSet);
        }
        finally
        {
            RaceHooks.DeviceLocking = null;
            RaceHooks.DeviceFreeing = null;
        }
    }

    /// <summary>A random delay: nothing, a yield of the processor, or a short spin.</summary>
    private static void Jitter()
    {
        switch (Random.Shared.Next(4))
        {
            case 0: break;
            case 1: Thread.Yield(); break;
            default: Thread.SpinWait(Random.Shared.Next(1, 20000)); break;
        }
    }
}
