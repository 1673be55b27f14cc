namespace Kcov;

/// <summary>
/// A kcov descriptor: the object form of one open() of /sys/kernel/debug/kcov.
/// <para>State transitions (kcov.c's, unchanged):</para>
/// <list type="number">
/// <item>DISABLED after <see cref="Open"/>;</item>
/// <item>a single KCOV_INIT_TRACE sets the size in words and moves to INIT;</item>
/// <item><see cref="Mmap(long, long, out KcovArea?)"/> in INIT creates the area on the first call (further calls map it again);</item>
/// <item>KCOV_ENABLE with KCOV_TRACE_PC or KCOV_TRACE_CMP binds the calling thread and moves to that mode;</item>
/// <item>KCOV_DISABLE from that thread (or the thread's end) unbinds it and moves back to INIT.</item>
/// </list>
/// Enable/disable may repeat, one thread at a time, in either mode.
/// <para>
/// Reference count (kcov's refcount): one for the open descriptor, one for the thread
/// bound by KCOV_ENABLE or KCOV_REMOTE_ENABLE (another thread cannot unwire it, so it lives
/// until disable or thread end), one for each remote section and each thread running part
/// of one. The area is freed, and its shared name removed, at the last reference.
/// </para>
/// Both faces of the device, the ioctl-shaped <see cref="Ioctl(uint, ulong)"/> that returns a
/// negative errno and the exception-throwing methods in KcovDevice.Api.cs, go through
/// <see cref="IoctlLocked"/>, so they cannot drift.
/// </summary>
public sealed unsafe partial class KcovDevice : IDisposable
{
    private int _refcount = 1;

    /// <summary>
    /// kcov->lock: guards _closed, _mode, _size, _area, _t, _remote, _remoteSize, _sequence, the
    /// Kcov field of bound tasks and the Closed flag of this device's remote sections. For a remote
    /// device, _mode, _remoteSize and _sequence are also read under RemoteMap.Lock alone
    /// (kcov_remote_start): whoever resets a remote device holds both.
    /// <para>
    /// The reference count never climbs back from 0, which is what makes freeing the area safe:
    /// a reference is taken only by a holder of one (a section for its parts) or under this lock by
    /// a caller that found _closed false (ENABLE, REMOTE_ENABLE, and kcov_remote_start, which finds
    /// the device in the remote map, where only a bound device is). _closed is set under this lock
    /// before the descriptor's reference is dropped, and a binding's reference is dropped only after
    /// the binding is undone under this lock. So once kcov_put() takes the count to 0, no thread is
    /// bound to the area or can bind to it, and no mmap can create another one: an ioctl or mmap that
    /// raced with close() finds _closed set when it gets the lock, and fails with EBADF.
    /// </para>
    /// </summary>
    private readonly object _lock = new();

    /// <summary>close() was called: the descriptor's reference is gone or going. Guarded by _lock.</summary>
    private bool _closed;

    private int _mode = KcovTask.ModeDisabled;
    /// <summary>Area size in 64-bit words.</summary>
    private uint _size;
    /// <summary>The device's own mapping: the trace path writes through its pointer until the last reference goes.</summary>
    private KcovArea? _area;
    /// <summary>The thread this device is bound to, or null.</summary>
    private KcovTask? _t;
    /// <summary>Incremented at every disable, so remote sections started before it are dropped.</summary>
    private int _sequence = 1;
    /// <summary>Collecting from remote sections (KCOV_REMOTE_ENABLE) rather than from _t itself.</summary>
    private bool _remote;
    /// <summary>Words at the start of the area that are the unique-mode bitmap; 0 in other modes.</summary>
    private ulong _bitmapWords;
    /// <summary>Size in words of the area each remote section writes.</summary>
    private uint _remoteSize;

    private KcovDevice() { }

    /// <summary>kcov_open(): a new descriptor in the DISABLED state, holding one reference.</summary>
    public static KcovDevice Open() => new();

    /// <summary>
    /// ioctl(2) on the descriptor. Returns 0, or a negative errno exactly where kcov.c returns one.
    /// KCOV_REMOTE_ENABLE needs its struct: use the overload that takes it as bytes.
    /// </summary>
    public int Ioctl(uint cmd, ulong arg) => IoctlChecked(cmd, arg, out _);

    /// <summary>
    /// <see cref="Ioctl(uint, ulong)"/>, with the reason for a negative result: what was wrong and what
    /// to do, the text the exception-throwing face puts in its message (for a caller that forwards
    /// the errno elsewhere, such as the control endpoint of Kcov.Control).
    /// </summary>
    public int Ioctl(uint cmd, ulong arg, out string? reason) => IoctlChecked(cmd, arg, out reason);

    /// <summary>
    /// mmap(2) of the area: only in the INIT state, only at offset 0, only for exactly size*8 bytes
    /// (-EINVAL otherwise). The first call creates the area; every call returns a new view of it.
    /// </summary>
    public int Mmap(long lengthBytes, long offsetBytes, out KcovArea? area) =>
        MmapChecked(lengthBytes, offsetBytes, out area, out _);

    /// <summary><see cref="Mmap(long, long, out KcovArea?)"/>, with the reason for a negative result.</summary>
    public int Mmap(long lengthBytes, long offsetBytes, out KcovArea? area, out string? reason) =>
        MmapChecked(lengthBytes, offsetBytes, out area, out reason);

    /// <summary>close(2): drops the descriptor's reference. A bound thread keeps the device alive.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_closed)
                return;
            // Before the reference goes: see _lock.
            _closed = true;
            ReapExitedTaskLocked();
        }
        Put();
    }

    /// <summary>The reference count, for tests and diagnostics.</summary>
    internal int RefCount => Volatile.Read(ref _refcount);

    /// <summary>kcov's name of the descriptor state (DISABLED, INIT, TRACE_PC, TRACE_CMP), for tests and diagnostics.</summary>
    internal string State
    {
        get
        {
            lock (_lock)
                return _mode switch
                {
                    KcovTask.ModeDisabled => "DISABLED",
                    KcovTask.ModeInit => "INIT",
                    KcovTask.ModeTracePc => "TRACE_PC",
                    KcovTask.ModeUniquePc => "UNIQUE_PC",
                    _ => "TRACE_CMP",
                };
        }
    }

    /// <summary>Whether the area exists (mmap was called and the device is not freed), for tests.</summary>
    internal bool HasArea { get { lock (_lock) return _area is not null; } }

    /// <summary>The sequence number (kcov->sequence), for tests.</summary>
    internal int Sequence { get { lock (_lock) return _sequence; } }

    private int IoctlChecked(uint cmd, ulong arg, out string? why)
    {
        RaceHooks.DeviceLocking?.Invoke(this);
        lock (_lock)
        {
            if (_closed)
                return Closed(out why);
            ReapExitedTaskLocked();
            return IoctlLocked(cmd, arg, out why);
        }
    }

    /// <summary>EBADF: the descriptor was closed. Checked under _lock, never before it (see _lock).</summary>
    private static int Closed(out string why)
    {
        why = "the device was closed (disposed); open a new one with KcovDevice.Open()";
        return -Errno.EBADF;
    }

    /// <summary>kcov_ioctl_locked(), for the commands that take a plain value.</summary>
    private int IoctlLocked(uint cmd, ulong arg, out string? why)
    {
        why = null;
        switch (cmd)
        {
            case KcovAbi.InitTrace:
                // Must happen before anything else.
                if (_mode != KcovTask.ModeDisabled)
                    return Fail(Errno.EBUSY, out why, "KCOV_INIT_TRACE may be issued once, on a freshly opened device; open another device for a new size");
                // Two words at least: the count and one PC. size*8 bytes must not overflow an int.
                if (arg < 2 || arg > int.MaxValue / sizeof(ulong))
                    return Fail(Errno.EINVAL, out why, $"area size {unchecked((long)arg)} words is out of range; it must be from 2 to {int.MaxValue / sizeof(ulong)} 64-bit words");
                _size = (uint)arg;
                _mode = KcovTask.ModeInit;
                return 0;

            case KcovAbi.Enable:
            {
                int bindable = CheckBindableLocked("KCOV_ENABLE", out var t, out why);
                if (bindable < 0)
                    return bindable;
                int mode = GetMode(arg, out why);
                if (mode < 0)
                    return mode;
                _mode = mode;
                t.Start(_size, _area!.Pointer, mode, _sequence);
                t.Kcov = this;
                _t = t;
                // Put either at thread end (TaskExit) or in KCOV_DISABLE.
                Get();
                return 0;
            }

            case KcovAbi.UniqueEnable:
            {
                // kcov_handle_unique_enable(): the same state checks as KCOV_ENABLE, then the bitmap
                // must be at least one word and leave at least two for the trace (count and one PC).
                int bindable = CheckBindableLocked("KCOV_UNIQUE_ENABLE", out var t, out why);
                if (bindable < 0)
                    return bindable;
                if (arg == 0 || arg >= _size - 1)
                    return Fail(Errno.EINVAL, out why, $"a bitmap of {arg} words does not fit an area of {_size} words; it must be from 1 to {_size - 2} words, leaving two for the trace");
                _mode = KcovTask.ModeUniquePc;
                _bitmapWords = arg;
                t.Start(_size, _area!.Pointer, KcovTask.ModeUniquePc, _sequence, arg);
                t.Kcov = this;
                _t = t;
                // Put either at thread end (TaskExit) or in KCOV_DISABLE.
                Get();
                return 0;
            }

            case KcovAbi.ResetTrace:
            {
                // As kcov: only the bound thread, only in a mode that collects (remote included).
                var t = KcovTask.Current;
                if (arg != 0 || t?.Kcov != this)
                    return Fail(Errno.EINVAL, out why, arg != 0
                        ? "KCOV_RESET_TRACE takes the argument 0"
                        : "KCOV_RESET_TRACE must come from the thread that enabled this device");
                if (_t != t)
                {
                    KcovEventSource.Log.Warning("KCOV_RESET_TRACE", "the calling thread is wired to the device but is not its bound thread");
                    return Fail(Errno.EINVAL, out why, "the calling thread is not the one this device is bound to");
                }
                if (_mode < KcovTask.ModeTracePc)
                    return Fail(Errno.EINVAL, out why, "KCOV_RESET_TRACE needs an enabled device");
                ulong* area = _area!.Pointer;
                new Span<ulong>(area, (int)_bitmapWords).Clear();
                Volatile.Write(ref area[_bitmapWords], 0UL);
                return 0;
            }

            case KcovAbi.Disable:
            {
                var t = KcovTask.Current;
                if (arg != 0 || t?.Kcov != this)
                    return Fail(Errno.EINVAL, out why, arg != 0
                        ? "KCOV_DISABLE takes the argument 0"
                        : "KCOV_DISABLE must come from the thread that enabled this device");
                if (_t != t)
                {
                    KcovEventSource.Log.Warning("KCOV_DISABLE", "the calling thread is wired to the device but is not its bound thread");
                    return Fail(Errno.EINVAL, out why, "the calling thread is not the one this device is bound to");
                }
                DisableLocked(t!);
                // kcov_task_reset() also forgets the task's common handle.
                Remote.SetCommonHandle(0);
                Put();
                return 0;
            }

            case KcovAbi.RemoteEnable:
                // The value form has no memory to copy struct kcov_remote_arg from.
                return Fail(Errno.EFAULT, out why, "KCOV_REMOTE_ENABLE takes struct kcov_remote_arg; pass it with Ioctl(uint, ReadOnlySpan<byte>)");

            default:
                return Fail(Errno.ENOTTY, out why, $"0x{cmd:x8} is not a kcov ioctl command (see KcovAbi)");
        }
    }

    /// <summary>
    /// What KCOV_ENABLE and KCOV_REMOTE_ENABLE both require, in kcov's order: the INIT state with
    /// an area (EINVAL), then neither this device nor the calling thread bound (EBUSY).
    /// </summary>
    private int CheckBindableLocked(string command, out KcovTask t, out string? why)
    {
        t = KcovTask.GetOrCreateCurrent();
        if (_mode != KcovTask.ModeInit || _area is null)
            return Fail(Errno.EINVAL, out why, _mode == KcovTask.ModeInit
                ? $"{command} before the area was mapped; call Mmap (Map) first"
                : $"{command} needs a device in the INIT state (after KCOV_INIT_TRACE and mmap, not already enabled)");
        if (_t is not null || t.Kcov is not null)
            return Fail(Errno.EBUSY, out why, "the calling thread already has a kcov device enabled (or is inside a remote section); disable it first or use another thread");
        why = null;
        return 0;
    }

    private static int GetMode(ulong arg, out string? why)
    {
        why = null;
        if (arg == KcovAbi.TracePc)
            return KcovTask.ModeTracePc;
        if (arg == KcovAbi.TraceCmp)
            return KcovTask.ModeTraceCmp;
        return Fail(Errno.EINVAL, out why, $"trace mode {arg} is unknown; use KCOV_TRACE_PC (0) or KCOV_TRACE_CMP (1)");
    }

    private int MmapChecked(long lengthBytes, long offsetBytes, out KcovArea? area, out string? why)
    {
        area = null;
        RaceHooks.DeviceLocking?.Invoke(this);
        lock (_lock)
        {
            if (_closed)
                return Closed(out why);
            ReapExitedTaskLocked();
            long size = (long)_size * sizeof(ulong);
            if (_mode != KcovTask.ModeInit || offsetBytes != 0 || lengthBytes != size)
                return Fail(Errno.EINVAL, out why, _mode != KcovTask.ModeInit
                    ? "mmap needs a device in the INIT state: after KCOV_INIT_TRACE and before KCOV_ENABLE"
                    : $"mmap must map exactly size*8 = {size} bytes at offset 0 (asked for {lengthBytes} bytes at offset {offsetBytes})");
            try
            {
                _area ??= KcovArea.Create(_size);
                area = KcovArea.OpenShared(_area.SharedName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail(Errno.ENOMEM, out why, $"could not create or map the shared area ({e.Message}); check free memory (and, where memfd_create is refused, free space in /dev/shm)");
            }
            why = null;
            return 0;
        }
    }

    /// <summary>
    /// kcov_task_exit(): the bound thread ended without KCOV_DISABLE. Called by the thread's
    /// exit sentinel, or by reaping; the second caller finds nothing to do.
    /// </summary>
    internal void TaskExit(KcovTask t)
    {
        lock (_lock)
        {
            if (t.Kcov != this)
                return;
            // A KCOV_ENABLE thread must be the device's bound thread; a thread that ends inside
            // a remote section is a bug in the section's owner (kcov warns for both).
            if (_t != t)
            {
                KcovEventSource.Log.Warning("kcov_task_exit", "a thread ended while wired to a device it is not bound to (inside a remote section?)");
                return;
            }
            // Just to not leave dangling references behind.
            DisableLocked(t);
        }
        Put();
    }

    /// <summary>Runs kcov_task_exit for the bound thread if it has ended. Caller holds _lock.</summary>
    private void ReapExitedTaskLocked()
    {
        var t = _t;
        if (t is null || t.Thread.IsAlive || t.Kcov != this)
            return;
        DisableLocked(t);
        // Not the last reference: the caller holds the descriptor's.
        Interlocked.Decrement(ref _refcount);
    }

    /// <summary>kcov_disable(): unwire the task, then reset the device. Caller holds _lock.</summary>
    private void DisableLocked(KcovTask t)
    {
        t.Reset();
        if (_remote)
            RemoteResetLocked();
        else
            ResetLocked();
    }

    /// <summary>kcov_remote_reset(): drop every handle this device holds, then reset it.</summary>
    private void RemoteResetLocked()
    {
        lock (RemoteMap.Lock)
        {
            RemoteMap.RemoveAll(this);
            // Reset before unlocking so that Remote.Start never sees a half-reset device.
            ResetLocked();
        }
    }

    /// <summary>kcov_reset(). Caller holds _lock.</summary>
    private void ResetLocked()
    {
        _t = null;
        _mode = KcovTask.ModeInit;
        _bitmapWords = 0;
        _remote = false;
        _remoteSize = 0;
        _sequence++;
    }

    /// <summary>kcov_get(), by a holder of a reference or under _lock with _closed false (see _lock).</summary>
    internal void Get() => Interlocked.Increment(ref _refcount);

    /// <summary>kcov_get() unless the device is already freed (its count reached 0).</summary>
    internal bool TryGet()
    {
        int count = Volatile.Read(ref _refcount);
        while (count > 0)
        {
            int seen = Interlocked.CompareExchange(ref _refcount, count + 1, count);
            if (seen == count)
                return true;
            count = seen;
        }
        return false;
    }

    /// <summary>kcov_put(): at the last reference, drops the device's handles and frees the area.</summary>
    internal void Put()
    {
        if (Interlocked.Decrement(ref _refcount) != 0)
            return;
        RaceHooks.DeviceFreeing?.Invoke(this);
        KcovArea? area;
        lock (_lock)
        {
            if (_remote)
                RemoteResetLocked();
            area = _area;
            _area = null;
        }
        if (area is not null)
        {
            area.Unlink();
            area.Dispose();
        }
    }

    private static int Fail(int errno, out string? why, string reason)
    {
        why = reason;
        return -errno;
    }
}
