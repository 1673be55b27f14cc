namespace Kcov.Fuzzing.Executor;

/// <summary>
/// Owns the kcov device of the fuzzing thread and runs the target under it: reset area[0],
/// run, leave the trace in the area for the caller to read. Create, use and dispose it on one
/// thread: KCOV_ENABLE binds the calling thread, and only that thread's code is recorded. An
/// async target is collected through remote sections instead (KCOV_REMOTE_ENABLE with a common
/// handle; see <see cref="FuzzTarget.From(Func{ReadOnlyMemory{byte}, Task})"/>).
/// </summary>
internal sealed class TargetRunner : IDisposable
{
    /// <summary>Instance ids of common handles: unique per process, as the remote map wants.</summary>
    private static int s_commonIds;

    private readonly FuzzTarget _target;
    private readonly KcovDevice _device;
    private readonly KcovArea _area;
    private readonly int _areaWords;
    private readonly ulong _commonHandle;
    private KcovMode _mode = KcovMode.TracePc;

    public TargetRunner(FuzzTarget target, int areaWords)
    {
        _target = target;
        _areaWords = areaWords;
        _device = KcovDevice.Open();
        try
        {
            _device.InitTrace(areaWords);
            _area = _device.Map();
            if (target.Remote)
                _commonHandle = KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, (ulong)Interlocked.Increment(ref s_commonIds));
            Enable(KcovMode.TracePc);
        }
        catch
        {
            _area?.Dispose();
            _device.Dispose();
            throw;
        }
    }

    /// <summary>The area's words; word 0 is the count of the last run.</summary>
    public ReadOnlySpan<ulong> Area => _area.Words;

    /// <summary>
    /// The descriptor number of the area in this process (its shared name is /proc/&lt;pid&gt;/fd/&lt;n&gt;), which
    /// the supervisor maps to read the trace after a crash; -1 where the name is not of that form (no /proc).
    /// </summary>
    public long AreaDescriptor =>
        _area.SharedName.StartsWith($"/proc/{Environment.ProcessId}/fd/", StringComparison.Ordinal)
        && long.TryParse(_area.SharedName.AsSpan(_area.SharedName.LastIndexOf('/') + 1), out long fd) ? fd : -1;

    /// <summary>Runs one input; returns the exception the target threw, or null.</summary>
    public Exception? Run(ReadOnlySpan<byte> input)
    {
        // Reset from the tail of the previous run, as the kcov.rst example does.
        Volatile.Write(ref _area.Words[0], 0);
        FaultInjection.At("input");
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
        Enable(mode);
        _mode = mode;
    }

    private void Enable(KcovMode mode)
    {
        if (_target.Remote)
            _device.RemoteEnable(mode, (uint)_areaWords, [], _commonHandle);
        else
            _device.Enable(mode);
    }

    public void Dispose()
    {
        try { _device.Disable(); } catch (KcovException) { }
        _area.Dispose();
        _device.Dispose();
    }
}
