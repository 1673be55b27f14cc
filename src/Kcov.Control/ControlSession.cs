using System.Buffers.Binary;

namespace Kcov.Control;

/// <summary>
/// One connection to the control endpoint: one open kcov descriptor. Requests are answered in
/// order on the session's own thread, which is the thread the descriptor's ioctls come from:
/// KCOV_ENABLE and KCOV_REMOTE_ENABLE bind the calling thread, and KCOV_DISABLE must come from
/// that thread, so every request of a connection runs on one dedicated thread (a thread-pool
/// continuation could resume anywhere). Commands are passed to <see cref="KcovDevice"/> as they
/// are, so the device's state machine and errnos are the ones callers in the service get, and a
/// command added to the device works here unchanged. End of stream is close(2).
/// </summary>
internal sealed class ControlSession(Stream stream, Action<string>? log)
{
    /// <summary>The longest wait a client may ask for; a wait holds the session's thread.</summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    private readonly KcovDevice _device = KcovDevice.Open();
    /// <summary>The work tracking of the common handle this descriptor holds, if any. Written only by the session's thread.</summary>
    private RemoteWorkState? _watch;
    private volatile bool _stopping;

    /// <summary>
    /// Answers requests from the stream until it ends, then closes the descriptor, on the calling
    /// thread. A truncated or oversized frame ends the session (the connection is closed); a
    /// well-framed request that makes no sense gets an errno reply. Never throws: this runs on a
    /// thread of its own, where an exception would take the service down.
    /// </summary>
    public void Serve()
    {
        try
        {
            while (!_stopping && ControlProtocol.ReadFrame(stream, ControlProtocol.MaxRequestBody) is { } body)
                stream.Write(Handle(body));
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException)
        {
            // Truncated (EndOfStreamException is an IOException), oversized, the peer gone, or the
            // server stopping: the connection ends, as a close would.
        }
        catch (Exception e)
        {
            log?.Invoke($"kcov control: a connection ended on an unexpected {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            Close();
            stream.Dispose();
        }
    }

    /// <summary>
    /// Ends the session from another thread (the server stops): the stream is closed, which ends a
    /// read, and a wait in progress returns.
    /// </summary>
    public void Stop()
    {
        _stopping = true;
        stream.Dispose();
        Volatile.Read(ref _watch)?.Abort();
    }

    /// <summary>One request body to one reply frame.</summary>
    private byte[] Handle(ReadOnlySpan<byte> body)
    {
        if (body.Length < 4)
            return Error(Errno.EINVAL, $"a request is a u32 op and its fields; this one is {body.Length} bytes");
        uint op = BinaryPrimitives.ReadUInt32LittleEndian(body);
        return op switch
        {
            ControlProtocol.OpIoctl => Ioctl(body),
            ControlProtocol.OpMmap => Mmap(body),
            ControlProtocol.OpWait => Wait(body),
            _ => Error(Errno.EINVAL, $"op {op} is unknown; use 1 (ioctl), 2 (mmap) or 3 (wait)"),
        };
    }

    private byte[] Ioctl(ReadOnlySpan<byte> body)
    {
        if (body.Length < ControlProtocol.IoctlBodySize)
            return Error(Errno.EINVAL, $"an ioctl request is at least {ControlProtocol.IoctlBodySize} bytes (op, cmd, reserved, arg); this one is {body.Length}");
        uint cmd = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        uint reserved = BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
        ulong arg = BinaryPrimitives.ReadUInt64LittleEndian(body[12..]);
        var data = body[ControlProtocol.IoctlBodySize..];
        if (reserved != 0)
            return Error(Errno.EINVAL, "the reserved field of an ioctl request must be 0");
        if (data.Length > 0 && arg != 0)
            return Error(Errno.EINVAL, "an ioctl request carries either a value (arg) or a struct (the bytes after arg), not both; arg must be 0 with a struct");
        string? reason;
        int result = data.Length > 0 ? _device.Ioctl(cmd, data, out reason) : _device.Ioctl(cmd, arg, out reason);
        if (result < 0)
            return Error(-result, reason);
        // What the device now holds decides which work a wait follows. Only kcov_remote_arg's
        // common_handle is read here; the device has already checked the whole struct.
        if (cmd == KcovAbi.RemoteEnable && data.Length >= KcovAbi.RemoteArgHeaderSize)
            WatchCommonHandle(BinaryPrimitives.ReadUInt64LittleEndian(data[16..]));
        else if (cmd == KcovAbi.Disable)
            WatchCommonHandle(0);
        return ControlProtocol.Reply(result, "");
    }

    private byte[] Mmap(ReadOnlySpan<byte> body)
    {
        if (body.Length != ControlProtocol.MmapBodySize)
            return Error(Errno.EINVAL, $"an mmap request is {ControlProtocol.MmapBodySize} bytes (op, length, offset); this one is {body.Length}");
        long length = BinaryPrimitives.ReadInt64LittleEndian(body[4..]);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(body[12..]);
        int result = _device.Mmap(length, offset, out var area, out var reason);
        if (result < 0)
            return Error(-result, reason);
        // The client maps the area by its name; this process keeps its own mapping in the device.
        string name = area!.SharedName;
        area.Dispose();
        return ControlProtocol.Reply(result, name);
    }

    private byte[] Wait(ReadOnlySpan<byte> body)
    {
        if (body.Length != ControlProtocol.WaitBodySize)
            return Error(Errno.EINVAL, $"a wait request is {ControlProtocol.WaitBodySize} bytes (op, timeout, reserved); this one is {body.Length}");
        uint timeoutMs = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(body[8..]) != 0)
            return Error(Errno.EINVAL, "the reserved field of a wait request must be 0");
        if (_watch is null)
            return Error(Errno.EINVAL, "wait follows the work of this descriptor's common handle; issue KCOV_REMOTE_ENABLE with a common_handle first");
        var timeout = TimeSpan.FromMilliseconds(Math.Min(timeoutMs, MaxWait.TotalMilliseconds));
        if (!_watch.WaitIdle(timeout, out var reports))
            return Error(ControlProtocol.ETIMEDOUT, $"work under handle 0x{_watch.Handle:x16} was still in flight after {timeout.TotalMilliseconds} ms");
        return ControlProtocol.Reply(reports.Count, ControlProtocol.EncodeReports(reports));
    }

    private void WatchCommonHandle(ulong handle)
    {
        if (_watch is not null)
            RemoteWork.Unwatch(_watch);
        Volatile.Write(ref _watch, handle != 0 ? RemoteWork.Watch(handle) : null);
    }

    /// <summary>
    /// close(2), on the session's thread: that thread is about to end, so it is unbound first, as
    /// kcov_task_exit would (sections still running are then dropped by the sequence number).
    /// </summary>
    private void Close()
    {
        _device.Ioctl(KcovAbi.Disable, 0);
        WatchCommonHandle(0);
        _device.Dispose();
    }

    private static byte[] Error(int errno, string? reason) =>
        ControlProtocol.Reply(-errno, reason ?? Errno.Name(errno));
}
