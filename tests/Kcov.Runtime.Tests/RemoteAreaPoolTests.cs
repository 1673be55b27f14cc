namespace Kcov.Tests;

/// <summary>The await path of sections: a thread-pool thread's spare area (see RemoteAreaPool).</summary>
public class RemoteAreaPoolTests
{
    /// <summary>The next part on the same thread-pool thread takes its spare back without the shared pool (and its lock).</summary>
    [Fact]
    public async Task AThreadPoolThreadReusesItsSpareAreaWithoutTheSharedPool()
    {
        ulong usb = Handles.Usb();
        uint size = Handles.UniqueAreaSize();
        using var remote = new RemoteDevice(64, KcovMode.TracePc, size, [usb]);
        var (first, second, pooledBetween) = await Task.Run(() =>
        {
            Assert.True(Thread.CurrentThread.IsThreadPoolThread);
            Remote.Start(usb);
            nint a = PartArea();
            Trace.Pc(0x1);
            Remote.Stop();
            int pooled = RemoteAreaPool.Pooled(size);
            Remote.Start(usb);
            nint b = PartArea();
            Trace.Pc(0x2);
            Remote.Stop();
            return (a, b, pooled);
        });
        Assert.Equal(first, second);
        Assert.Equal(0, pooledBetween);
        Assert.Equal([0x1UL, 0x2], remote.Entries());

        static unsafe nint PartArea() => (nint)KcovTask.Current!.Area;
    }
}
