namespace Kcov.Fuzzing.Executor;

/// <summary>
/// Owns the kcov device of the fuzzing thread and runs the target under it: reset area[0],
/// run, leave the trace in the area for the caller to read. Create, use and dispose it on one
/// thread: KCOV_ENABLE binds the calling thread, and only that thread's code is recorded. An
/// async target is collected through remote sections instead (KCOV_REMOTE_ENABLE with a common
/// handle; see <see cref="FuzzTarget.From(Func{ReadOnlyMemory{byte}, Task})"/>), and so is a
/// service in another process, whose device the target opens (<see cref="FuzzTarget.OpenDevice"/>).
/// </summary>
internal sealed class TargetRunner : IDisposable
{
    /// <summary>Instance ids of common handles: unique per process, as the remote map wants.</summary>
    private static int s_commonIds;

    /// <summary>Tries at other ids when a common handle is taken (by another executor, with a remote device).</summary>
    private const int HandleAttempts = 16;

    private readonly FuzzTarget _target;
    private readonly IKcovDevice _device;
    private readonly KcovArea _area;
    private readonly int _areaWords;
    private ulong _commonHandle;
    private KcovMode _mode = KcovMode.TracePc;
    /// <summary>Set once a service's device stopped answering: every later run returns it at once.</summary>
    private Exception? _lost;

    public TargetRunner(FuzzTarget target, int areaWords)
    {
        _target = target;
        _areaWords = areaWords;
        _device = target.OpenDevice();
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
    /// The area's file under /dev/shm, for the supervisor to remove if this process dies; empty when
    /// the device is a service's (an HTTP target): that area is the service's, and only it removes it.
    /// </summary>
    public string AreaName => _device is LocalKcovDevice ? _area.SharedName : "";

    /// <summary>Runs one input; returns the exception the target threw, or null.</summary>
    public Exception? Run(ReadOnlySpan<byte> input)
    {
        // Reset from the tail of the previous run, as the kcov.rst example does.
        Volatile.Write(ref _area.Words[0], 0);
        if (_lost is not null)
            return _lost;
        try
        {
            _target.Invoke(input);
            return null;
        }
        catch (Service.ServiceLostException e)
        {
            _lost = e;
            return e;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    /// <summary>
    /// Switches the trace mode (KCOV_DISABLE then KCOV_ENABLE: cheap, same thread). A service whose
    /// device no longer answers is not an error here: the next <see cref="Run"/> reports it.
    /// </summary>
    public void SetMode(KcovMode mode)
    {
        if (mode == _mode || _lost is not null)
            return;
        try
        {
            _device.Disable();
            Enable(mode);
        }
        catch (IOException e) when (e is not KcovException)
        {
            _lost = new Service.ServiceLostException($"the service's kcov device stopped answering: {e.Message}", e);
            return;
        }
        _mode = mode;
    }

    private void Enable(KcovMode mode)
    {
        if (!_target.Remote)
        {
            _device.Enable(mode);
            return;
        }
        uint sectionWords = _target.SectionWords ?? (uint)_areaWords;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                _device.RemoteEnable(mode, sectionWords, [], _commonHandle);
                break;
            }
            catch (KcovHandleInUseException) when (attempt < HandleAttempts)
            {
                // A service's handles are shared by every executor (and any other client) using it.
                _commonHandle = KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, (ulong)Random.Shared.Next(1, int.MaxValue));
            }
        }
        _target.UseCommonHandle(_commonHandle);
    }

    public void Dispose()
    {
        // Not enabled (KcovException), or a service that is gone (IOException): nothing to undo.
        try { _device.Disable(); } catch (IOException) { }
        _area.Dispose();
        _device.Dispose();
    }
}
