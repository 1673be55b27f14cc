namespace Kcov.Fuzzing.Executor;

/// <summary>
/// Owns the kcov device of the fuzzing thread and runs the target under it: reset area[0],
/// run, leave the trace in the area for the caller to read. Create, use and dispose it on one
/// thread: KCOV_ENABLE binds the calling thread, and only that thread's code is recorded. An
/// async target is collected through remote sections instead (KCOV_REMOTE_ENABLE with a common
/// handle; see <see cref="FuzzTarget.From(Func{ReadOnlyMemory{byte}, Task})"/>), and so is a
/// service in another process, whose device the target opens (<see cref="FuzzTarget.OpenDevice"/>).
/// <para>
/// With <c>unique</c> (-kcov_unique), blocks are collected in kcov's unique mode (KCOV_UNIQUE_ENABLE)
/// instead of trace-pc: the area starts with a bitmap of one bit per instrumented site, and the trace
/// after it holds each block's PC once, in the order blocks were first reached. The bitmap is sized
/// from <see cref="Trace.SiteBits"/>, which grows as instrumented modules run their first probe; a
/// module that registers later has its sites past the bitmap, which kcov writes every time (nothing is
/// lost), and the bitmap is grown before the next input.
/// </para>
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
    private readonly bool _unique;
    /// <summary>Words of the unique-mode bitmap at the start of the area while unique mode is on; 0 otherwise.</summary>
    private int _bitmapWords;
    /// <summary>Where the last run's trace started: a mode switch after the run (back from trace-cmp) does not move it.</summary>
    private int _lastRunOffset;
    /// <summary>The thread the device is bound to: the creating one, or the one that last <see cref="Adopt"/>ed the runner.</summary>
    private int _threadId = Environment.CurrentManagedThreadId;
    /// <summary>That thread's kcov task (this process's device, a synchronous target), or null.</summary>
    private KcovTask? _task;
    private readonly (Exception? Exception, ulong Count)[] _throws = new (Exception?, ulong)[8];
    private int _throwCount;
    private bool _running;

    public TargetRunner(FuzzTarget target, int areaWords, bool unique = false)
    {
        if (unique && target.Remote)
            throw new ArgumentException("remote sections (an async target or a service) cannot use kcov's unique mode", nameof(unique));
        _target = target;
        _areaWords = areaWords;
        _unique = unique;
        _device = target.OpenDevice();
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

    /// <summary>The trace of the last run: word 0 is the count (in unique mode, the part of the area after the bitmap).</summary>
    public ReadOnlySpan<ulong> Area => _area.Words[_lastRunOffset..];

    /// <summary>The whole area, the unique-mode bitmap included.</summary>
    public ReadOnlySpan<ulong> WholeArea => _area.Words;

    /// <summary>Where the trace starts in the area: the unique-mode bitmap's words, 0 in trace-pc and trace-cmp.</summary>
    public int TraceOffset => _bitmapWords;

    /// <summary>Whether blocks are collected in kcov's unique mode (each PC once per input) rather than trace-pc.</summary>
    public bool Unique => _bitmapWords > 0;

    /// <summary>
    /// At most half the area is bitmap, so the trace keeps room for the blocks of the sites past it
    /// (a process with more than 32 sites per trace word of the area: raise -kcov_area_words).
    /// </summary>
    private int MaxBitmapWords => _areaWords / 2;

    /// <summary><see cref="AreaDescriptor"/> of a runner whose area is a service's (an HTTP target), not this process's.</summary>
    public const long ServiceArea = -2;

    /// <summary>
    /// The descriptor number of the area in this process (its shared name is /proc/&lt;pid&gt;/fd/&lt;n&gt;), which
    /// the supervisor maps to read the trace after a crash; -1 where the name is not of that form (no /proc);
    /// <see cref="ServiceArea"/> when the device is a service's: its area holds the service's blocks.
    /// </summary>
    public long AreaDescriptor =>
        _device is not LocalKcovDevice ? ServiceArea
        : _area.SharedName.StartsWith($"/proc/{Environment.ProcessId}/fd/", StringComparison.Ordinal)
        && long.TryParse(_area.SharedName.AsSpan(_area.SharedName.LastIndexOf('/') + 1), out long fd) ? fd : -1;

    /// <summary>
    /// The PC of the block that threw the exception the last <see cref="Run"/> returned: the last block
    /// in the trace when it was thrown (before any finally block or handler ran), exact whatever the JIT
    /// inlined. 0 when unknown (not traced on this thread: an async target, a service; nothing instrumented ran).
    /// </summary>
    public ulong ThrowSite { get; private set; }

    /// <summary>Runs one input; returns the exception the target threw, or null.</summary>
    public Exception? Run(ReadOnlySpan<byte> input)
    {
        ThrowSite = 0;
        if (_lost is not null)
            return _lost;
        PrepareRun();
        // Reset from the tail of the previous run, as the kcov.rst example does; in unique mode with
        // the bitmap too (what KCOV_RESET_TRACE does, without the ioctl's lock).
        if (_bitmapWords > 0)
            _area.Words[.._bitmapWords].Clear();
        Volatile.Write(ref _area.Words[_bitmapWords], 0);
        _lastRunOffset = _bitmapWords;
        _throwCount = 0;
        FaultInjection.At("input");
        _running = true;
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
        // A service's area holds the service's blocks, not this thread's: no throwing block here. In
        // unique mode the trace's last PC is the last block reached for the first time, not
        // necessarily the one that threw: no site (the fuzz loop asks trace-pc for it).
        if (!_running || _mode != KcovMode.TracePc || _bitmapWords > 0 || Environment.CurrentManagedThreadId != _threadId || _device is not LocalKcovDevice)
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

    /// <summary>
    /// In unique mode, grows the bitmap when instrumented modules registered sites since it was sized
    /// (KCOV_DISABLE, then KCOV_UNIQUE_ENABLE with the new size); returns <see cref="TraceOffset"/> for
    /// the input about to run. <see cref="Run"/> calls it too; call it first to publish the offset.
    /// </summary>
    public int PrepareRun()
    {
        if (_bitmapWords > 0 && _bitmapWords < MaxBitmapWords && BitmapWordsNeeded() > _bitmapWords)
        {
            _device.Disable();
            Enable(KcovMode.TracePc);
        }
        return _bitmapWords;
    }

    private int BitmapWordsNeeded() => (int)Math.Clamp((Trace.SiteBits + 63) / 64, 1, MaxBitmapWords);

    /// <summary>
    /// Switches the trace mode (KCOV_DISABLE then KCOV_ENABLE: cheap, same thread). TracePc means unique
    /// mode when the runner was made unique, unless <paramref name="exactPcs"/> asks for plain trace-pc
    /// (every block each time it runs), as the exact site of a throw needs. A service whose device no
    /// longer answers is not an error here: the next <see cref="Run"/> reports it.
    /// </summary>
    public void SetMode(KcovMode mode, bool exactPcs = false)
    {
        bool unique = _unique && mode == KcovMode.TracePc && !exactPcs;
        if ((mode == _mode && unique == _bitmapWords > 0) || _lost is not null)
            return;
        try
        {
            _device.Disable();
            Enable(mode, exactPcs);
        }
        catch (IOException e) when (e is not KcovException)
        {
            _lost = new Service.ServiceLostException($"the service's kcov device stopped answering: {e.Message}", e);
            return;
        }
        _mode = mode;
    }

    private void Enable(KcovMode mode, bool exactPcs = false)
    {
        _bitmapWords = 0;
        if (_unique && mode == KcovMode.TracePc && !exactPcs)
        {
            int words = BitmapWordsNeeded();
            _device.EnableUnique(words);
            _bitmapWords = words;
            _task = _device is LocalKcovDevice ? KcovTask.Current : null;
            return;
        }
        if (!_target.Remote)
        {
            _device.Enable(mode);
            _task = _device is LocalKcovDevice ? KcovTask.Current : null;
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

    /// <summary>
    /// Asks the bound thread to stop at its next traced block and run <paramref name="atPark"/> there
    /// (<see cref="KcovTask.RequestPark"/>, used by <see cref="HangParking"/>); returns what withdraws
    /// the request (false once the thread took it), or null if no thread can be parked: the target
    /// does not run on the thread this process's device is bound to (an async target, a service).
    /// </summary>
    public Func<bool>? RequestPark(Func<bool> atPark)
    {
        var task = _task;
        if (task is null)
            return null;
        task.RequestPark(atPark);
        return task.CancelPark;
    }

    /// <summary>On the thread being parked (the device's owner): unbinds the device so that another thread can take it.</summary>
    public void ReleaseOnParkedThread()
    {
        _device.Disable();
        _task = null;
    }

    /// <summary>
    /// On a new thread, after the runner's thread was parked: binds the device here in trace-pc (or
    /// unique) mode, whatever mode the parked run was in, and runs later inputs on this thread.
    /// </summary>
    public void Adopt()
    {
        _threadId = Environment.CurrentManagedThreadId;
        _running = false;
        _mode = KcovMode.TracePc;
        Enable(KcovMode.TracePc);
    }

    /// <summary>The stack size of the bound thread in bytes (0 if unknown): a thread that takes over its work gets the same.</summary>
    public unsafe int StackSize => _task is null ? 0 : (int)Math.Min((long)_task.State->StackSize, int.MaxValue);

    public void Dispose()
    {
        AppDomain.CurrentDomain.FirstChanceException -= OnFirstChance;
        // Not enabled (KcovException), or a service that is gone (IOException): nothing to undo.
        try { _device.Disable(); } catch (IOException) { }
        _area.Dispose();
        _device.Dispose();
    }
}
