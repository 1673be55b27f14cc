using System.Buffers.Binary;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Text;
using Kcov.Control;
using Kcov.Fuzzing.Executor;

namespace Kcov.Fuzzing;

/// <summary>
/// The kcov device of another process (a service running Kcov.Control's endpoint), opened over
/// its control socket: the same calls as <see cref="KcovDevice"/>, answered by that process's
/// device with kcov's errnos. The area is the service's shared memory, mapped here by name, so
/// coverage is read (and reset) with no call into the service, as kcov's mmap'ed area is.
/// <code>
/// using var device = KcovRemoteDevice.Open("/run/myservice/kcov.sock");
/// device.InitTrace(1 &lt;&lt; 16);
/// using var area = device.Map();
/// device.RemoteEnable(KcovMode.TracePc, 1 &lt;&lt; 16, [], KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, 0x42));
/// // send requests with the header "kcov-handle: 0x0000000000000042", then:
/// device.WaitIdle(TimeSpan.FromSeconds(10));   // the coverage of what they started is in area.Words
/// </code>
/// The descriptor's ioctls run on one thread of the service (the connection's), which KCOV_ENABLE
/// would bind: over the wire, KCOV_REMOTE_ENABLE is the useful mode. Closing (Dispose) is close(2).
/// </summary>
public sealed class KcovRemoteDevice : IKcovDevice
{
    private readonly Stream _stream;
    private readonly string _endpoint;
    private readonly object _lock = new(); // one request and its reply at a time
    /// <summary>Area size in words from a successful KCOV_INIT_TRACE, for <see cref="Map"/>.</summary>
    private long _words;
    private int _closed;

    private KcovRemoteDevice(Stream stream, string endpoint)
    {
        _stream = stream;
        _endpoint = endpoint;
    }

    /// <summary>open(2) of the service's device: connects to its control endpoint (a Unix socket path, a pipe name on Windows).</summary>
    /// <exception cref="IOException">Nothing serves the endpoint, or this user may not open it.</exception>
    public static KcovRemoteDevice Open(string endpoint) => Open(endpoint, OperatingSystem.IsWindows());

    internal static KcovRemoteDevice Open(string endpoint, bool namedPipe)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        try
        {
            if (namedPipe)
            {
                var pipe = new NamedPipeClientStream(".", endpoint, PipeDirection.InOut, PipeOptions.CurrentUserOnly);
                pipe.Connect(TimeSpan.FromSeconds(10));
                return new KcovRemoteDevice(pipe, endpoint);
            }
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(endpoint));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            return new KcovRemoteDevice(new NetworkStream(socket, ownsSocket: true), endpoint);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            throw new IOException($"cannot open the kcov control endpoint '{endpoint}' ({e.Message}); is the service running with {KcovControlServer.EnvironmentVariable}={endpoint}, as this user?", e);
        }
    }

    /// <summary>ioctl(2) with a value argument: 0 or a negative errno, as <see cref="KcovDevice.Ioctl(uint, ulong)"/>.</summary>
    public int Ioctl(uint cmd, ulong arg)
    {
        int result = Call(ControlProtocol.IoctlRequest(cmd, arg), out _);
        if (result == 0 && cmd == KcovAbi.InitTrace)
            _words = (long)arg;
        return result;
    }

    /// <summary>ioctl(2) with a struct argument (KCOV_REMOTE_ENABLE's <c>kcov_remote_arg</c>, as bytes).</summary>
    public int Ioctl(uint cmd, ReadOnlySpan<byte> arg) => Call(ControlProtocol.IoctlRequest(cmd, arg), out _);

    /// <summary>
    /// mmap(2): on success, <paramref name="area"/> is this process's mapping of the service's area.
    /// </summary>
    /// <exception cref="IOException">The service's area cannot be mapped here (another machine, container or user).</exception>
    public int Mmap(long lengthBytes, long offsetBytes, out KcovArea? area) => Mmap(lengthBytes, offsetBytes, out area, out _);

    /// <summary>KCOV_INIT_TRACE, throwing <see cref="KcovException"/> with the service's reason.</summary>
    public void InitTrace(int words)
    {
        Check(Call(ControlProtocol.IoctlRequest(KcovAbi.InitTrace, unchecked((ulong)words)), out var why), "KCOV_INIT_TRACE", why);
        _words = words;
    }

    /// <summary>mmap of the whole area, throwing <see cref="KcovException"/> with the service's reason.</summary>
    public KcovArea Map()
    {
        Check(Mmap(_words * sizeof(ulong), 0, out var area, out var why), "mmap", why);
        return area!;
    }

    /// <summary>KCOV_ENABLE: binds the service's connection thread (of little use over the wire; see the class summary).</summary>
    public void Enable(KcovMode mode) => Check(Call(ControlProtocol.IoctlRequest(KcovAbi.Enable, (ulong)mode), out var why), "KCOV_ENABLE", why);

    /// <summary>KCOV_UNIQUE_ENABLE: binds the endpoint's connection thread in the service, as <see cref="Enable"/> does.</summary>
    public void EnableUnique(int bitmapWords) =>
        Check(Call(ControlProtocol.IoctlRequest(KcovAbi.UniqueEnable, unchecked((ulong)bitmapWords)), out var why), "KCOV_UNIQUE_ENABLE", why);

    /// <summary>KCOV_DISABLE.</summary>
    public void Disable() => Check(Call(ControlProtocol.IoctlRequest(KcovAbi.Disable, 0), out var why), "KCOV_DISABLE", why);

    /// <summary>KCOV_REMOTE_ENABLE with <c>struct kcov_remote_arg</c>, as <see cref="KcovDevice.RemoteEnable"/>.</summary>
    public void RemoteEnable(KcovMode mode, uint areaSize, ReadOnlySpan<ulong> handles, ulong commonHandle = 0)
    {
        var arg = new KcovRemoteArg((uint)mode, areaSize, commonHandle, handles.ToArray());
        Check(Call(ControlProtocol.IoctlRequest(KcovAbi.RemoteEnable, arg.ToBytes()), out var why), "KCOV_REMOTE_ENABLE", why);
    }

    /// <summary>
    /// Beyond kcov: waits until the service has finished the work it tracks under this descriptor's
    /// common handle (requests with the handle, items they queued), so that its coverage is in the
    /// area; returns the faults (exception texts, each starting with where it happened) that work met.
    /// </summary>
    /// <exception cref="TimeoutException">Work was still in flight after <paramref name="timeout"/>.</exception>
    public IReadOnlyList<string> WaitIdle(TimeSpan timeout)
    {
        uint ms = (uint)Math.Clamp(timeout.TotalMilliseconds, 0, uint.MaxValue);
        int result = Call(ControlProtocol.WaitRequest(ms), out var payload);
        if (result == -ControlProtocol.ETIMEDOUT)
            throw new TimeoutException($"the service's work under this descriptor's common handle was still running after {timeout.TotalSeconds:0.###} s: {Encoding.UTF8.GetString(payload)}");
        if (result < 0)
            throw KcovException.For(-result, "wait", Encoding.UTF8.GetString(payload));
        try
        {
            return ControlProtocol.DecodeReports(payload, result);
        }
        catch (InvalidDataException e)
        {
            throw Lost($"a malformed wait reply ({e.Message})", e);
        }
    }

    /// <summary>close(2): the service closes the descriptor (and disables it, as the end of its thread would).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
            _stream.Dispose();
    }

    /// <summary>Sends one request, reads its reply: the result, and the text or payload after it.</summary>
    private int Call(byte[] request, out byte[] payload)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) != 0, this);
        lock (_lock)
        {
            byte[]? reply;
            try
            {
                _stream.Write(request);
                reply = ControlProtocol.ReadFrame(_stream, ControlProtocol.MaxReplyBody);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException)
            {
                throw Lost(e.Message, e);
            }
            if (reply is null || reply.Length < 4)
                throw Lost(reply is null ? "it closed the connection" : "a reply without its result", null);
            payload = reply[4..];
            return BinaryPrimitives.ReadInt32LittleEndian(reply);
        }
    }

    private IOException Lost(string what, Exception? inner) =>
        new($"the kcov control endpoint '{_endpoint}' stopped answering: {what}", inner);

    private int Mmap(long lengthBytes, long offsetBytes, out KcovArea? area, out byte[] why)
    {
        area = null;
        int result = Call(ControlProtocol.MmapRequest(lengthBytes, offsetBytes), out why);
        if (result < 0)
            return result;
        string name = Encoding.UTF8.GetString(why);
        try
        {
            area = KcovArea.OpenShared(name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new IOException($"the service's kcov area '{name}' cannot be mapped here ({e.Message}); run the client on the service's machine, as its user, in the same PID namespace (the name is under /proc).", e);
        }
        return result;
    }

    private static void Check(int result, string operation, byte[] why)
    {
        if (result < 0)
            throw KcovException.For(-result, operation, why.Length > 0 ? Encoding.UTF8.GetString(why) : "no reason given");
    }
}
