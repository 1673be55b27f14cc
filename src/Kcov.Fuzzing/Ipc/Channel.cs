using System.Net.Sockets;

namespace Kcov.Fuzzing.Ipc;

/// <summary>
/// A connected Unix domain socket carrying length-prefixed <see cref="Message"/>s.
/// A socket and not the executor's stdout: the target may write there, even from native code.
/// Sends are serialized by a lock (guards the stream's write side); receives come from one reader thread.
/// <para>
/// The supervisor's side reads what the target's process wrote, so a frame longer than the
/// channel's limit, or one that does not decode as exactly one message, is garbage
/// (<see cref="InvalidDataException"/>), never followed. A frame cut short is the end of the
/// channel: the other side died while sending it.
/// </para>
/// </summary>
internal sealed class Channel : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly BinaryReader _reader;
    private readonly object _sendLock = new();
    private readonly int _maxFrame;

    /// <param name="socket">The connected socket; the channel owns it.</param>
    /// <param name="maxFrame">The longest message this side accepts, in bytes.</param>
    public Channel(Socket socket, int maxFrame = int.MaxValue)
    {
        _socket = socket;
        _maxFrame = maxFrame;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new BinaryReader(new BufferedStream(_stream, 1 << 16));
    }

    /// <summary>
    /// The address of a supervisor's socket: on Linux an abstract one (<c>@name</c> here, a leading
    /// NUL on the wire), which is no file and so cannot be left behind; elsewhere a path.
    /// </summary>
    public static UnixDomainSocketEndPoint EndPoint(string address) =>
        new(address.StartsWith('@') ? "\0" + address[1..] : address);

    /// <summary>The executor's side: connects to the supervisor's socket.</summary>
    public static Channel Connect(string address)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(EndPoint(address));
        return new Channel(socket);
    }

    /// <summary>The process at the other end (SO_PEERCRED), or null where the kernel does not say.</summary>
    public int? PeerProcessId => PeerProcessIdOf(_socket);

    public static int? PeerProcessIdOf(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } for SOL_SOCKET (1), SO_PEERCRED (17).
        Span<byte> ucred = stackalloc byte[12];
        return socket.GetRawSocketOption(1, 17, ucred) >= 4 ? BitConverter.ToInt32(ucred) : null;
    }

    public void Send(Message message)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(0);
            message.Write(w);
        }
        byte[] bytes = buffer.GetBuffer();
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 4), (int)buffer.Length - 4);
        lock (_sendLock)
        {
            string point = $"send-{message.Kind}";
            if (FaultInjection.Hit(point))
            {
                // A message cut in the middle, as a process killed while sending leaves it.
                _stream.Write(bytes, 0, (int)buffer.Length / 2);
                _stream.Flush();
                FaultInjection.Act(point);
            }
            _stream.Write(bytes, 0, (int)buffer.Length);
        }
    }

    /// <summary>The next message, or null when the other side closed the connection (or died, perhaps mid-message).</summary>
    /// <exception cref="InvalidDataException">The frame is not a message: too long, or not one message exactly.</exception>
    public Message? Receive()
    {
        byte[] payload;
        try
        {
            int length = _reader.ReadInt32();
            if (length < 0 || length > _maxFrame)
                throw new InvalidDataException($"a frame of {length} bytes (at most {_maxFrame})");
            payload = _reader.ReadBytes(length);
            if (payload.Length != length)
                return null;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ObjectDisposedException)
        {
            return null;
        }
        return Message.Decode(payload);
    }

    public void Dispose()
    {
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _reader.Dispose();
        _stream.Dispose();
    }
}
