namespace Kcov.Tests;

/// <summary>kcov_open / kcov_close / kcov_put / kcov_task_exit: references and thread end.</summary>
public class DeviceLifetimeTests
{
    [Fact]
    public void OpenHoldsOneReferenceAndCloseFreesTheArea()
    {
        var device = KcovDevice.Open();
        Assert.Equal(1, device.RefCount);
        Assert.Equal("DISABLED", device.State);
        device.InitTrace(4);
        using var view = device.Map();
        string name = view.SharedName;
        string? area = SharedNames.Target(name);
        Assert.NotNull(area);

        device.Dispose();

        Assert.Equal(0, device.RefCount);
        Assert.False(device.HasArea);
        Assert.NotEqual(area, SharedNames.Target(name));
        // The view is its own mapping, like a vma outliving close(): still readable.
        view.Words[1] = 42;
        Assert.Equal(42UL, view.Words[1]);
        device.Dispose(); // closing twice is harmless
        Assert.Equal(0, device.RefCount);
    }

    [Fact]
    public void BindingHoldsAReferenceUntilDisable() => Threads.RunOnFreshThread(() =>
    {
        var device = KcovDevice.OpenEnabled(8, KcovMode.TracePc, out var area);
        using (area)
        {
            Assert.Equal(2, device.RefCount);
            device.Disable();
            Assert.Equal(1, device.RefCount);
            device.Enable(KcovMode.TraceCmp);
            Assert.Equal(2, device.RefCount);
            device.Disable();
            device.Dispose();
            Assert.Equal(0, device.RefCount);
        }
    });

    [Fact]
    public void ClosingWhileBoundKeepsTracingUntilTheThreadEnds()
    {
        KcovDevice device = KcovDevice.Open();
        device.InitTrace(16);
        using var view = device.Map();
        string name = view.SharedName;
        string? area = SharedNames.Target(name);
        using var go = new ManualResetEventSlim();
        using var closed = new ManualResetEventSlim();
        int disableAfterClose = 0;
        var thread = new Thread(() =>
        {
            device.Enable(KcovMode.TracePc);
            go.Set();
            closed.Wait();
            // The descriptor is closed but the binding still holds the device: coverage goes on.
            Trace.Pc(0xc105ed);
            disableAfterClose = device.Ioctl(KcovAbi.Disable, 0);
        });
        thread.Start();
        go.Wait();
        device.Dispose();
        Assert.Equal(1, device.RefCount);
        Assert.Equal(area, SharedNames.Target(name));
        closed.Set();
        thread.Join();

        Assert.Equal(-Errno.EBADF, disableAfterClose);
        Assert.Equal(1UL, view.Words[0]);
        Assert.Equal(0xc105edUL, view.Words[1]);
        // Nobody touches the device again: the thread's exit sentinel releases the binding.
        WaitForFinalizers(() => device.RefCount == 0);
        Assert.Equal(0, device.RefCount);
        Assert.NotEqual(area, SharedNames.Target(name));
    }

    [Fact]
    public void AnotherThreadCanEnableOnceTheBoundThreadHasEnded()
    {
        using var device = KcovDevice.Open();
        device.InitTrace(16);
        device.Map().Dispose();
        var thread = new Thread(() => device.Enable(KcovMode.TracePc));
        thread.Start();
        thread.Join();

        // kcov_task_exit ran for the dead thread, so the device is INIT again and free to bind.
        Threads.RunOnFreshThread(() =>
        {
            Assert.Equal(0, device.Ioctl(KcovAbi.Enable, KcovAbi.TraceCmp));
            Assert.Equal("TRACE_CMP", device.State);
            Assert.Equal(2, device.RefCount); // the dead thread's reference is gone
            Assert.Equal(0, device.Ioctl(KcovAbi.Disable, 0));
        });
        Assert.Equal(1, device.RefCount);
    }

    [Fact]
    public void ThreadEndAloneReleasesTheBindingsReference()
    {
        using var device = KcovDevice.Open();
        device.InitTrace(16);
        device.Map().Dispose();
        int sequence = device.Sequence;
        var thread = new Thread(() => device.Enable(KcovMode.TracePc));
        thread.Start();
        thread.Join();

        // No device call in between: only the exit sentinel can have done this.
        WaitForFinalizers(() => device.RefCount == 1);
        Assert.Equal(1, device.RefCount);
        Assert.Equal("INIT", device.State);
        Assert.Equal(sequence + 1, device.Sequence); // kcov_reset ran once
    }

    [Fact]
    public void SequenceAdvancesAtEveryDisable() => Threads.RunOnFreshThread(() =>
    {
        using var device = KcovDevice.OpenEnabled(8, KcovMode.TracePc, out var area);
        area.Dispose();
        Assert.Equal(1, device.Sequence);
        device.Disable();
        Assert.Equal(2, device.Sequence);
        device.Enable(KcovMode.TraceCmp);
        device.Disable();
        Assert.Equal(3, device.Sequence);
    });

    [Fact]
    public void ExceptionsSayWhatWasWrongAndWhatToDo() => Threads.RunOnFreshThread(() =>
    {
        using var device = KcovDevice.Open();
        var e = Assert.Throws<KcovInvalidArgumentException>(() => device.Enable(KcovMode.TracePc));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Equal("KCOV_ENABLE", e.Operation);
        Assert.Contains("INIT", e.Message);

        var size = Assert.Throws<KcovInvalidArgumentException>(() => device.InitTrace(1));
        Assert.Contains("from 2 to 268435455", size.Message);

        device.InitTrace(8);
        var busy = Assert.Throws<KcovBusyException>(() => device.InitTrace(8));
        Assert.Contains("open another device", busy.Message);

        var map = Assert.Throws<KcovInvalidArgumentException>(() => device.Enable(KcovMode.TracePc));
        Assert.Contains("Mmap", map.Message);

        device.Dispose();
        var closed = Assert.Throws<KcovDeviceClosedException>(() => device.Disable());
        Assert.Equal(Errno.EBADF, closed.Errno);
    });

    /// <summary>Runs full collections until <paramref name="done"/> holds; finalization is not
    /// promised after one collection, so retry a bounded number of times.</summary>
    internal static void WaitForFinalizers(Func<bool> done)
    {
        for (int i = 0; i < 20 && !done(); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
