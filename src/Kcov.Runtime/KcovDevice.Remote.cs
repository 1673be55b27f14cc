namespace Kcov;

// KCOV_REMOTE_ENABLE and the device side of remote sections (kcov_remote_stop's move).
public sealed unsafe partial class KcovDevice
{
    /// <summary>
    /// ioctl(2) for the command that takes a struct: KCOV_REMOTE_ENABLE with
    /// <c>struct kcov_remote_arg</c> as bytes (see <see cref="KcovRemoteArg"/>). Returns 0 or a
    /// negative errno exactly where kcov.c returns one.
    /// </summary>
    public int Ioctl(uint cmd, ReadOnlySpan<byte> arg) => IoctlChecked(cmd, arg, out _);

    /// <summary><see cref="Ioctl(uint, ReadOnlySpan{byte})"/>, with the reason for a negative result.</summary>
    public int Ioctl(uint cmd, ReadOnlySpan<byte> arg, out string? reason) => IoctlChecked(cmd, arg, out reason);

    private int IoctlChecked(uint cmd, ReadOnlySpan<byte> arg, out string? why)
    {
        if (cmd != KcovAbi.RemoteEnable)
        {
            // Passing memory where kcov expects a value is what a C caller passing a pointer does:
            // the value is nonsense to these commands.
            return cmd is KcovAbi.InitTrace or KcovAbi.Enable or KcovAbi.Disable
                ? Fail(Errno.EINVAL, out why, $"ioctl 0x{cmd:x8} takes a value, not a struct; use Ioctl(uint, ulong)")
                : Fail(Errno.ENOTTY, out why, $"0x{cmd:x8} is not a kcov ioctl command (see KcovAbi)");
        }
        int read = KcovRemoteArg.TryRead(arg, out var remoteArg, out why);
        if (read < 0)
            return read;
        RaceHooks.DeviceLocking?.Invoke(this);
        lock (_lock)
        {
            if (_closed)
                return Closed(out why);
            ReapExitedTaskLocked();
            return RemoteEnableLocked(remoteArg!, out why);
        }
    }

    /// <summary>The KCOV_REMOTE_ENABLE case of kcov_ioctl_locked().</summary>
    private int RemoteEnableLocked(KcovRemoteArg arg, out string? why)
    {
        int bindable = CheckBindableLocked("KCOV_REMOTE_ENABLE", out var t, out why);
        if (bindable < 0)
            return bindable;
        int mode = GetMode(arg.TraceMode, out why);
        if (mode < 0)
            return mode;
        // kcov bounds area_size by LONG_MAX/8, which a u32 never exceeds on 64-bit; we bound it
        // as KCOV_INIT_TRACE bounds the device's size, so every section area is one Span long.
        if (arg.AreaSize > int.MaxValue / sizeof(ulong))
            return Fail(Errno.EINVAL, out why, $"area_size {arg.AreaSize} words is too large; at most {int.MaxValue / sizeof(ulong)}");
        _mode = mode;
        t.Kcov = this;
        _t = t;
        _remote = true;
        _remoteSize = arg.AreaSize;
        int result = RegisterHandles(arg, out why);
        if (result < 0)
        {
            // Unwind everything registered so far: kcov_disable() drops all of this device's handles.
            DisableLocked(t);
            Remote.SetCommonHandle(0);
            return result;
        }
        if (arg.CommonHandle != 0)
            Remote.SetCommonHandle(arg.CommonHandle);
        // Put either at thread end (TaskExit) or in KCOV_DISABLE.
        Get();
        return 0;
    }

    private int RegisterHandles(KcovRemoteArg arg, out string? why)
    {
        why = null;
        lock (RemoteMap.Lock)
        {
            foreach (ulong handle in arg.Handles)
            {
                if (!RemoteMap.CheckHandle(handle, commonValid: false, uncommonValid: true, zeroValid: false))
                    return Fail(Errno.EINVAL, out why, $"0x{handle:x16} is not a valid global handle: it needs a registered non-common subsystem in the top byte, zero bytes 4..6 (use KcovAbi.RemoteHandle); common handles go in common_handle");
                if (!RemoteMap.TryAdd(handle, this))
                    return Fail(Errno.EEXIST, out why, $"handle 0x{handle:x16} is already held by another device (or listed twice); disable that device first");
            }
            if (arg.CommonHandle != 0)
            {
                if (!RemoteMap.CheckHandle(arg.CommonHandle, commonValid: true, uncommonValid: false, zeroValid: false))
                    return Fail(Errno.EINVAL, out why, $"0x{arg.CommonHandle:x16} is not a valid common handle: use KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, id) with a non-zero 4-byte id");
                if (!RemoteMap.TryAdd(arg.CommonHandle, this))
                    return Fail(Errno.EEXIST, out why, $"common handle 0x{arg.CommonHandle:x16} is already held by another device; pick another id");
            }
        }
        return 0;
    }

    /// <summary>
    /// What kcov_remote_start() reads of the device under kcov_remote_lock: the section's area
    /// size, the trace mode and the sequence. Takes the section's reference. Caller holds RemoteMap.Lock.
    /// </summary>
    internal (uint Size, int Mode, int Sequence) StartSectionLocked()
    {
        Get();
        return (_remoteSize, _mode, _sequence);
    }

    /// <summary>
    /// The device half of kcov_remote_stop(): append a part of <paramref name="section"/> to the
    /// device area, unless the device was disabled (or re-enabled) since the section started, or
    /// the section's Stop has already returned.
    /// </summary>
    internal void AppendRemote(RemoteSection section, ulong* src, int sequence)
    {
        lock (_lock)
        {
            // The section's Stop gave up waiting for this part and returned: what the area held
            // then is the section's coverage. Appended now, it would land in the next collection.
            if (section.Closed)
            {
                KcovEventSource.Log.Warning("kcov_remote_stop", "a part of a section ended after the section's Stop returned; its coverage is dropped");
                return;
            }
            // KCOV_DISABLE could have been called between the section's start and now.
            if (sequence == _sequence && _remote && _area is not null)
                MoveArea(_mode, _area.Pointer, _size, src);
        }
    }

    /// <summary>
    /// The end of a section's Stop: from now on its parts are dropped rather than appended. Under
    /// _lock, so a part is appended wholly before this or not at all (see <see cref="AppendRemote"/>).
    /// </summary>
    internal void CloseSection(RemoteSection section)
    {
        lock (_lock)
            section.Closed = true;
    }

    /// <summary>
    /// kcov_move_area(): append <paramref name="src"/>'s entries after the entries already in
    /// <paramref name="dst"/>, truncated to the free space. Entries are one word (trace-pc) or four
    /// (trace-cmp); like kcov, the bytes of a record that only partly fits are copied but not counted.
    /// </summary>
    internal static void MoveArea(int mode, ulong* dst, uint dstSize, ulong* src)
    {
        const ulong CountSize = sizeof(ulong);
        int entrySizeLog;
        switch (mode)
        {
            case KcovTask.ModeTracePc: entrySizeLog = 3; break;
            case KcovTask.ModeTraceCmp: entrySizeLog = 5; break;
            default:
                KcovEventSource.Log.Warning("kcov_move_area", $"mode {mode} is not a trace mode");
                return;
        }
        ulong dstBytes = (ulong)dstSize * sizeof(ulong);
        // The reader owns dst[0] and may have written anything there.
        ulong dstLen = Volatile.Read(ref dst[0]);
        ulong srcLen = src[0];
        if (dstLen > (dstBytes - CountSize) >> entrySizeLog)
            return;
        ulong dstOccupied = CountSize + (dstLen << entrySizeLog);
        ulong dstFree = dstBytes - dstOccupied;
        ulong bytesToMove = Math.Min(dstFree, srcLen << entrySizeLog);
        Buffer.MemoryCopy(src + 1, (byte*)dst + dstOccupied, dstFree, bytesToMove);
        ulong entriesMoved = bytesToMove >> entrySizeLog;
        // Publish after the entries: pairs with the reader's load of word 0.
        Volatile.Write(ref dst[0], dstLen + entriesMoved);
    }
}
