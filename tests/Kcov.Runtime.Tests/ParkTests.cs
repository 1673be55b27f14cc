namespace Kcov.Tests;

/// <summary>
/// <see cref="KcovTask.RequestPark"/>: a thread caught in an endless loop of traced code stops at its
/// next block, runs the action there and blocks, while the process goes on; its device is free again.
/// Each test's looping thread is a background thread; a parked one stays blocked until the test
/// process ends, as it would in a fuzzer's executor.
/// </summary>
public class ParkTests
{
    /// <summary>A thread that traces and runs blocks until <see cref="Stop"/>: what an input that hangs looks like.</summary>
    private sealed class Spinner
    {
        public readonly KcovDevice Device = KcovDevice.Open();
        public readonly KcovArea Area;
        public KcovTask Task = null!;
        public readonly Thread Thread;
        private long _turns;
        private volatile bool _stop;
        private readonly ManualResetEventSlim _started = new();

        public Spinner()
        {
            Device.InitTrace(64);
            Area = Device.Map();
            Thread = new Thread(() =>
            {
                Device.Enable(KcovMode.TracePc);
                Task = KcovTask.Current!;
                _started.Set();
                while (!_stop)
                {
                    Trace.Pc(0xABCD);
                    Volatile.Write(ref _area0, Volatile.Read(ref Area.Words[0]));
                    // Keep the area from filling: the loop's blocks go on being recorded.
                    Area.Words[0] = 0;
                    Interlocked.Increment(ref _turns);
                }
                Device.Disable();
            }) { IsBackground = true };
            Thread.Start();
            Assert.True(_started.Wait(TimeSpan.FromSeconds(30)));
        }

        private ulong _area0;

        /// <summary>The count the thread read after its last block: 1 while its blocks are recorded.</summary>
        public ulong LastCount => Volatile.Read(ref _area0);

        public long Turns => Interlocked.Read(ref _turns);

        public void WaitForTurns(long more)
        {
            long target = Turns + more;
            Assert.True(SpinWait.SpinUntil(() => Turns >= target, TimeSpan.FromSeconds(30)), "the looping thread does not run");
        }

        public void Stop()
        {
            _stop = true;
            Assert.True(Thread.Join(TimeSpan.FromSeconds(30)));
            Area.Dispose();
            Device.Dispose();
        }
    }

    [Fact]
    public void ALoopingThreadStopsAtItsNextBlockRunsTheActionThereAndStaysBlocked()
    {
        var spinner = new Spinner();
        spinner.WaitForTurns(1000);
        Assert.Equal(1UL, spinner.LastCount);
        int actionThread = 0;
        using var parked = new ManualResetEventSlim();
        spinner.Task.RequestPark(() =>
        {
            actionThread = Environment.CurrentManagedThreadId;
            // As the owner of the device, the parked thread can give it back.
            spinner.Device.Disable();
            parked.Set();
            return true;
        });
        Assert.True(parked.Wait(TimeSpan.FromSeconds(30)), "the looping thread did not park");
        Assert.Equal(spinner.Thread.ManagedThreadId, actionThread);

        long turns = spinner.Turns;
        Thread.Sleep(200);
        Assert.Equal(turns, spinner.Turns);
        Assert.True(spinner.Thread.IsAlive);
        Assert.Equal(ThreadState.WaitSleepJoin, spinner.Thread.ThreadState & ThreadState.WaitSleepJoin);

        // The device is free: another thread binds it and its blocks are recorded.
        Threads.RunOnFreshThread(() =>
        {
            spinner.Device.Enable(KcovMode.TracePc);
            spinner.Area.Words[0] = 0;
            Trace.Pc(0x1111);
            Assert.Equal([1UL, 0x1111UL], spinner.Area.Words[..2].ToArray());
            spinner.Device.Disable();
        });
    }

    [Fact]
    public void AnActionThatDeclinesLetsTheThreadGoOnTracing()
    {
        var spinner = new Spinner();
        spinner.WaitForTurns(1000);
        using var asked = new ManualResetEventSlim();
        spinner.Task.RequestPark(() =>
        {
            asked.Set();
            return false;
        });
        Assert.True(asked.Wait(TimeSpan.FromSeconds(30)));
        spinner.WaitForTurns(1000);
        // Its blocks are still recorded, and nothing is left pending (the fast path is back).
        Assert.Equal(1UL, spinner.LastCount);
        Assert.True(SpinWait.SpinUntil(() => Tracers.PendingParks == 0, TimeSpan.FromSeconds(30)));
        spinner.Stop();
    }

    [Fact]
    public void RequestsRacingWithdrawalsAndTheLoopingThreadLeaveNothingPendingAndTheBlocksRecorded()
    {
        // Bounded stress: each request is either taken (the action declines, the thread goes on) or
        // withdrawn in time; whichever wins, it is counted once and the fast path comes back.
        var spinner = new Spinner();
        spinner.WaitForTurns(100);
        int taken = 0, withdrawn = 0;
        var random = new Random(9);
        for (int i = 0; i < 2000; i++)
        {
            spinner.Task.RequestPark(() =>
            {
                Interlocked.Increment(ref taken);
                return false;
            });
            if (random.Next(2) == 0)
                Thread.SpinWait(random.Next(200));
            if (spinner.Task.CancelPark())
                withdrawn++;
            else
                Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref taken) + withdrawn == i + 1, TimeSpan.FromSeconds(30)));
        }
        Assert.Equal(2000, Volatile.Read(ref taken) + withdrawn);
        // A taken request is counted off just after its action returns.
        Assert.True(SpinWait.SpinUntil(() => Tracers.PendingParks == 0, TimeSpan.FromSeconds(30)));
        spinner.WaitForTurns(100);
        Assert.Equal(1UL, spinner.LastCount);
        spinner.Stop();
    }

    [Fact]
    public void ARequestSendsEveryBlockToTheSlowPathUntilItIsTakenOrWithdrawn()
    {
        var task = new ParkedThread();
        KcovDevice device = null!;
        KcovArea area = null!;
        KcovTask kcovTask = null!;
        task.Run(() =>
        {
            device = KcovDevice.OpenEnabled(64, KcovMode.TracePc, out area);
            kcovTask = KcovTask.Current!;
        });
        // The thread waits outside traced code: the request stays pending, and a withdrawal takes it back.
        bool action = false;
        kcovTask.RequestPark(() => action = true);
        unsafe { Assert.Equal((nint)Tracers.Several, Volatile.Read(ref Tracers.Sole)); }
        Assert.True(kcovTask.CancelPark());
        Assert.False(kcovTask.CancelPark());
        Assert.Equal(0, Tracers.PendingParks);
        task.Run(() => Trace.Pc(0x2222));
        Assert.False(action);
        Assert.Equal([1UL, 0x2222UL], area.Words[..2].ToArray());
        task.Run(() => device.Disable());
        area.Dispose();
        device.Dispose();
        task.Dispose();
    }
}
