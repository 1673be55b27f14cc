namespace Kcov.Fuzzing.Executor;

/// <summary>
/// Owns the kcov device of the fuzzing thread and runs the target under it: reset area[0],
/// run, leave the trace in the area for the caller to read. Create, use and dispose it on one
/// thread: KCOV_ENABLE binds the calling thread, and only that thread's code is recorded.
/// </summary>
internal sealed class TargetRunner : IDisposable
{
    private readonly FuzzTarget _target;
    private readonly KcovDevice _device;
    private readonly KcovArea _area;
    private KcovMode _mode = KcovMode.TracePc;

    public TargetRunner(FuzzTarget target, int areaWords)
    {
        _target = target;
        _device = KcovDevice.OpenEnabled(areaWords, KcovMode.TracePc, out _area);
    }

    /// <summary>The area's words; word 0 is the count of the last run.</summary>
    public ReadOnlySpan<ulong> Area => _area.Words;

    /// <summary>The area's file under /dev/shm, for the supervisor to remove if this process dies.</summary>
    public string AreaName => _area.SharedName;

    /// <summary>Runs one input; returns the exception the target threw, or null.</summary>
    public Exception? Run(ReadOnlySpan<byte> input)
    {
        // Reset from the tail of the previous run, as the kcov.rst example does.
        Volatile.Write(ref _area.Words[0], 0);
        try
        {
            _target.Invoke(input);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>Switches the trace mode (KCOV_DISABLE then KCOV_ENABLE: cheap, same thread).</summary>
    public void SetMode(KcovMode mode)
    {
        if (mode == _mode)
            return;
        _device.Disable();
        _device.Enable(mode);
        _mode = mode;
    }

    public void Dispose()
    {
        try { _device.Disable(); } catch (KcovException) { }
        _area.Dispose();
        _device.Dispose();
    }
}
