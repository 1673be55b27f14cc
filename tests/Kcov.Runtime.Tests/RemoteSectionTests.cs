namespace Kcov.Tests;

/// <summary>
/// kcov_remote_start / kcov_remote_stop on worker threads: what starts, what is a warning,
/// references, the area pool, sequence numbers and kcov_move_area's truncation.
/// The Trace calls stand in for instrumented code with recognisable PCs.
/// </summary>
public unsafe class RemoteSectionTests
{
    /// <summary>Runs <paramref name="body"/> inside a section of <paramref name="handle"/> on a fresh worker thread.</summary>
    private static void OnWorker(ulong handle, Action body) => Threads.RunOnFreshThread(() =>
    {
        Remote.Start(handle);
        body();
        Remote.Stop();
    });

    [Fact]
    public void ASectionOnAWorkerAppendsItsPcsAtStop()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, 16, [usb]);
        using var worker = new ParkedThread();

        worker.Run(() =>
        {
            Remote.Start(usb);
            Trace.Pc(0xe1);
            Trace.Pc(0xe2);
        });
        Assert.Equal(0UL, remote.Area.Words[0]); // nothing until the section stops
        worker.Run(() =>
        {
            Trace.Pc(0xe3);
            Remote.Stop();
            Trace.Pc(0xe4); // after the section: not collected
        });
        Assert.Equal([0xe1UL, 0xe2, 0xe3], remote.Entries());
    }

    [Fact]
    public void CmpSectionsAppendRecords()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(64, KcovMode.TraceCmp, 16, [usb]);
        OnWorker(usb, () =>
        {
            Trace.Pc(0x99); // wrong mode for this device: ignored
            Trace.ConstCmp4(7, 8, 0xc1);
            Trace.Cmp8(1, 2, 0xc2);
        });
        Assert.Equal([5UL, 7, 8, 0xc1, 6, 1, 2, 0xc2], remote.Entries(4));
    }

    [Fact]
    public void AHandleNoDeviceHoldsAndHandleZeroAreSilentNoOps()
    {
        using var warnings = new KcovWarnings();
        ulong unheld = Handles.Usb();
        Threads.RunOnFreshThread(() =>
        {
            Assert.False(Remote.Section(unheld).Started);
            Assert.False(Remote.Section(0).Started);
            Remote.Start(0);
            Assert.Null(KcovTask.Current!.Kcov);
            Remote.Stop(); // no section: nothing to do
        });
        Assert.Empty(warnings.About($"0x{unheld:x16}"));
    }

    [Fact]
    public void AnInvalidHandleIsAWarningAndANoOp()
    {
        using var warnings = new KcovWarnings();
        ulong invalid = KcovAbi.SubsystemUsb | 0xdead_0000_0000 | Handles.NextInstance(); // reserved bytes set
        Threads.RunOnFreshThread(() =>
        {
            Assert.False(Remote.Section(invalid).Started);
            Assert.Null(KcovTask.Current?.Kcov);
        });
        Assert.Single(warnings.About($"invalid handle 0x{invalid:x16}"));
    }

    [Fact]
    public void StartOnAThreadWithADeviceIsAWarningAndItsOwnCoverageGoesOn()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, 16, [usb]);
        using var warnings = new KcovWarnings();
        Threads.RunOnFreshThread(() =>
        {
            using var own = KcovDevice.OpenEnabled(16, KcovMode.TracePc, out var area);
            using (area)
            {
                area.Words[0] = 0;
                Assert.False(Remote.Section(usb).Started);
                Trace.Pc(0x0e);
                Remote.Stop();
                Trace.Pc(0x0f);
                Assert.Equal([2UL, 0x0e, 0x0f], area.Words[..3].ToArray());
                own.Disable();
            }
        });
        Assert.Equal(0UL, remote.Area.Words[0]);
        Assert.NotEmpty(warnings.About("has a kcov device enabled"));
    }

    [Fact]
    public void SectionsDoNotNestAndStopEndsTheOuterOne()
    {
        ulong a = Handles.Usb(), b = Handles.Usb();
        using var ra = new RemoteDevice(64, KcovMode.TracePc, 16, [a]);
        using var rb = new RemoteDevice(64, KcovMode.TracePc, 16, [b]);
        using var warnings = new KcovWarnings();
        Threads.RunOnFreshThread(() =>
        {
            Remote.Start(a);
            Trace.Pc(0xa1);
            using (var inner = Remote.Section(b))
            {
                Assert.False(inner.Started);
                Trace.Pc(0xa2);
            } // stops nothing: it started nothing
            Trace.Pc(0xa3);
            Remote.Stop();
        });
        Assert.Equal([0xa1UL, 0xa2, 0xa3], ra.Entries());
        Assert.Empty(rb.Entries());
        Assert.NotEmpty(warnings.About("do not nest"));
    }

    [Fact]
    public void TheSectionAndItsThreadEachHoldAReference()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, 16, [usb]);
        using var worker = new ParkedThread();
        int baseline = remote.Device.RefCount; // descriptor + the enabling thread
        Assert.Equal(2, baseline);

        worker.Run(() => Remote.Start(usb));
        Assert.Equal(baseline + 2, remote.Device.RefCount);
        worker.Run(Remote.Stop);
        Assert.Equal(baseline, remote.Device.RefCount);
    }

    [Fact]
    public void AreasArePooledBySizeAndResetAtStart()
    {
        ulong usb = Handles.Usb();
        uint size = Handles.UniqueAreaSize(), otherSize = Handles.UniqueAreaSize();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, size, [usb]);
        nint first = 0, second = 0;

        Assert.Equal(0, RemoteAreaPool.Pooled(size));
        OnWorker(usb, () => { first = (nint)KcovTask.Current!.Area; Trace.Pc(0x1); Trace.Pc(0x2); });
        Assert.Equal(1, RemoteAreaPool.Pooled(size));
        Assert.True(RemoteAreaPool.Contains(first, size));

        OnWorker(usb, () => { second = (nint)KcovTask.Current!.Area; Trace.Pc(0x3); });
        Assert.Equal(first, second); // kcov_remote_area_get found it by size
        Assert.Equal(1, RemoteAreaPool.Pooled(size));
        // The reused area was reset: 0x1 and 0x2 were not appended twice.
        Assert.Equal([0x1UL, 0x2, 0x3], remote.Entries());

        // A section of another size never gets it.
        remote.Disable();
        remote.Owner.Run(() => remote.Device.RemoteEnable(KcovMode.TracePc, otherSize, [usb]));
        nint third = 0;
        OnWorker(usb, () => third = (nint)KcovTask.Current!.Area);
        Assert.NotEqual(first, third);
        Assert.Equal(1, RemoteAreaPool.Pooled(size));
        Assert.Equal(1, RemoteAreaPool.Pooled(otherSize));
    }

    [Fact]
    public void TwoSectionsAtOnceUseTwoAreas()
    {
        ulong usb1 = Handles.Usb(), usb2 = Handles.Usb();
        uint size = Handles.UniqueAreaSize();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, size, [usb1, usb2]);
        using var w1 = new ParkedThread();
        using var w2 = new ParkedThread();
        nint a1 = w1.Run(() => { Remote.Start(usb1); return (nint)KcovTask.Current!.Area; });
        nint a2 = w2.Run(() => { Remote.Start(usb2); return (nint)KcovTask.Current!.Area; });
        Assert.NotEqual(a1, a2);
        w1.Run(Remote.Stop);
        w2.Run(Remote.Stop);
        Assert.Equal(2, RemoteAreaPool.Pooled(size));
    }

    [Fact]
    public void ASectionStartedBeforeDisableIsDropped()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, 16, [usb]);
        using var worker = new ParkedThread();
        worker.Run(() => { Remote.Start(usb); Trace.Pc(0xd1); });
        remote.Disable();
        worker.Run(() => { Trace.Pc(0xd2); Remote.Stop(); });
        Assert.Equal(0UL, remote.Area.Words[0]);
        Assert.Equal(1, remote.Device.RefCount); // the section's and the thread's references are back
    }

    [Fact]
    public void ASectionStartedBeforeDisableAndReenableIsDropped()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, 16, [usb]);
        using var worker = new ParkedThread();
        worker.Run(() => { Remote.Start(usb); Trace.Pc(0xd1); });
        remote.Disable();
        remote.Owner.Run(() => remote.Device.RemoteEnable(KcovMode.TracePc, 16, [usb]));
        worker.Run(() => { Trace.Pc(0xd2); Remote.Stop(); });
        Assert.Equal(0UL, remote.Area.Words[0]); // the device is remote again, but the sequence moved

        OnWorker(usb, () => Trace.Pc(0xd3)); // a section of the new enable is collected
        Assert.Equal([0xd3UL], remote.Entries());
    }

    [Fact]
    public void PcSectionsAreTruncatedToTheFreeSpace()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(8, KcovMode.TracePc, 16, [usb]); // room for 7 PCs
        remote.Area.Words[0] = 5;
        OnWorker(usb, () => { for (ulong pc = 0x11; pc <= 0x14; pc++) Trace.Pc(pc); });
        Assert.Equal([7UL, 0, 0, 0, 0, 0, 0x11, 0x12], remote.Area.Words.ToArray());

        OnWorker(usb, () => Trace.Pc(0x15)); // full: nothing moves, the count stays
        Assert.Equal(7UL, remote.Area.Words[0]);
    }

    [Fact]
    public void CmpSectionsAreTruncatedToWholeRecordsLikeKcovMoveArea()
    {
        ulong usb = Handles.Usb();
        // 11 words: the count and 2.5 records. With one record there, 48 bytes are free: kcov
        // copies them (one record and a half) but counts only the whole record.
        using var remote = new RemoteDevice(11, KcovMode.TraceCmp, 64, [usb]);
        remote.Area.Words[0] = 1;
        OnWorker(usb, () =>
        {
            Trace.Cmp8(0xa, 0xb, 0xc);
            Trace.Cmp8(0xd, 0xe, 0xf);
            Trace.Cmp8(0x1, 0x2, 0x3);
        });
        Assert.Equal([2UL, 0, 0, 0, 0, 6, 0xa, 0xb, 0xc, 6, 0xd], remote.Area.Words.ToArray());
    }

    [Fact]
    public void ACountBeyondTheAreaMovesNothing()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(8, KcovMode.TracePc, 16, [usb]);
        remote.Area.Words[0] = 8; // more than the 7 entries the area holds: kcov_move_area gives up
        OnWorker(usb, () => Trace.Pc(0x1));
        Assert.Equal([8UL, 0, 0, 0, 0, 0, 0, 0], remote.Area.Words.ToArray());
    }

    [Fact]
    public void ClosingTheDeviceDuringASectionIsSafe()
    {
        ulong usb = Handles.Usb();
        var remote = new RemoteDevice(64, KcovMode.TracePc, 16, [usb]);
        using var worker = new ParkedThread();
        string name = remote.Area.SharedName;
        string? area = SharedNames.Target(name);
        worker.Run(() => { Remote.Start(usb); Trace.Pc(0xf1); });

        // Close while the section runs: the owner's binding keeps the device remote.
        remote.Device.Dispose();
        worker.Run(() => { Trace.Pc(0xf2); Remote.Stop(); });
        Assert.Equal([0xf1UL, 0xf2], remote.Entries());

        // Disable and close while another section runs: it is dropped, and its end frees the device.
        worker.Run(() => { Remote.Start(usb); Trace.Pc(0xf3); });
        remote.Owner.Run(() => Assert.Equal(-Errno.EBADF, remote.Device.Ioctl(KcovAbi.Disable, 0)));
        remote.Owner.Dispose(); // the enabling thread ends: kcov_task_exit
        DeviceLifetimeTests.WaitForFinalizers(() => remote.Device.RefCount == 2);
        Assert.Equal(2, remote.Device.RefCount); // the section and its thread
        Assert.Equal(area, SharedNames.Target(name));
        worker.Run(() => { Trace.Pc(0xf4); Remote.Stop(); });
        Assert.Equal(0, remote.Device.RefCount);
        Assert.NotEqual(area, SharedNames.Target(name));
        Assert.Equal([0xf1UL, 0xf2], remote.Entries());
        remote.Area.Dispose();
    }

    private static readonly AsyncLocal<int> s_unrelated = new();

    [Fact]
    public void AThreadThatEndsInsideASectionDeliversItsPartAsItsContextEnds()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, 16, [usb]);
        // A thread started from a flow with any AsyncLocal set runs in that ExecutionContext,
        // which the runtime restores when the thread ends: that is when the part moves.
        s_unrelated.Value = 1;
        var thread = new Thread(() =>
        {
            Remote.Start(usb);
            Trace.Pc(0xe0);
            // No Stop.
        });
        thread.Start();
        thread.Join();
        Assert.Equal([0xe0UL], remote.Entries());
    }

    [Fact]
    public void AThreadWithoutAContextThatEndsInsideASectionDeliversItsPartAtExit()
    {
        ulong usb = Handles.Usb();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, 16, [usb]);
        int baseline = remote.Device.RefCount;
        var thread = new Thread(() =>
        {
            Remote.Start(usb);
            Trace.Pc(0xe1);
        });
        using (ExecutionContext.SuppressFlow())
            thread.Start();
        thread.Join();
        // No context restore happens on this thread's way out; its exit sentinel delivers the part.
        DeviceLifetimeTests.WaitForFinalizers(() => remote.Area.Words[0] != 0);
        Assert.Equal([0xe1UL], remote.Entries());
        Assert.Equal(baseline + 1, remote.Device.RefCount); // the part's reference is back; the unstopped section keeps its own
    }
}
