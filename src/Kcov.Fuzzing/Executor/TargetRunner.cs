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
    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private readonly (Exception? Exception, ulong Count)[] _throws = new (Exception?, ulong)[8];
    private int _throwCount;
    private bool _running;

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
            AppDomain.CurrentDomain.FirstChanceException += OnFirstChance;
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

    /// <summary>
    /// The PC of the block that threw the exception the last <see cref="Run"/> returned: the last block
    /// in the trace when it was thrown (before any finally block or handler ran), exact whatever the JIT
    /// inlined. 0 when unknown (not traced on this thread: an async target; nothing instrumented ran).
    /// </summary>
    public ulong ThrowSite { get; private set; }

    /// <summary>Runs one input; returns the exception the target threw, or null.</summary>
    public Exception? Run(ReadOnlySpan<byte> input)
    {
        // Reset from the tail of the previous run, as the kcov.rst example does.
        Volatile.Write(ref _area.Words[0], 0);
        ThrowSite = 0;
        _throwCount = 0;
        FaultInjection.At("input");
        _running = true;
        try
        {
            _target.Invoke(input);
            return null;
        }
        catch (Exception e)
        {
            ThrowSite = SiteOf(e);
            return e;
        }
        finally
        {
            _running = false;
        }
    }

    /// <summary>
    /// Where in the trace each exception was first thrown on this thread during the run: the count of
    /// the area at that moment. A rethrow of the same object keeps its first place.
    /// </summary>
    private void OnFirstChance(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e)
    {
        if (!_running || _mode != KcovMode.TracePc || Environment.CurrentManagedThreadId != _threadId)
            return;
        int n = Math.Min(_throwCount, _throws.Length);
        for (int i = 0; i < n; i++)
            if (ReferenceEquals(_throws[i].Exception, e.Exception))
                return;
        _throws[_throwCount++ % _throws.Length] = (e.Exception, Volatile.Read(ref _area.Words[0]));
    }

    private ulong SiteOf(Exception e)
    {
        int n = Math.Min(_throwCount, _throws.Length);
        for (int i = 0; i < n; i++)
        {
            if (!ReferenceEquals(_throws[i].Exception, e))
                continue;
            ulong count = Math.Min(_throws[i].Count, (ulong)_area.Words.Length - 1);
            return count > 0 ? _area.Words[(int)count] : 0;
        }
        return 0;
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
        AppDomain.CurrentDomain.FirstChanceException -= OnFirstChance;
        try { _device.Disable(); } catch (KcovException) { }
        _area.Dispose();
        _device.Dispose();
    }
}
