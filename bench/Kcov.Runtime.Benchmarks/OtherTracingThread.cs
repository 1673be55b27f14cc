namespace Kcov.Benchmarks;

/// <summary>
/// While it lives, another thread has a device enabled in <c>mode</c>, so the process-wide "does
/// anything trace?" check cannot answer for the measuring thread and its blocks take the path of a
/// thread that does not trace while another does.
/// </summary>
internal sealed class OtherTracingThread : IDisposable
{
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _thread;

    public OtherTracingThread(KcovMode mode)
    {
        using var enabled = new ManualResetEventSlim();
        _thread = new Thread(() =>
        {
            using var device = KcovDevice.OpenEnabled(16, mode, out var area);
            enabled.Set();
            _stop.Wait();
            device.Disable();
            area.Dispose();
        });
        _thread.Start();
        enabled.Wait();
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
    }
}
