using System.Net.Sockets;

namespace Kcov.Fuzzing.Ipc;

/// <summary>
/// A connected Unix domain socket carrying length-prefixed <see cref="Message"/>s.
/// A socket and not the executor's stdout: the target may write there, even from native code.
/// Sends are serialized by a lock (guards the stream's write side); receives come from one reader thread.
/// </summary>
internal sealed class Channel : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly BinaryReader _reader;
    private readonly object _sendLock = new();

    public Channel(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = new BinaryReader(new BufferedStream(_stream, 1 << 16));
    }

    /// <summary>The executor's side: connects to the supervisor's socket.</summary>
    public static Channel Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        return new Channel(socket);
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
            _stream.Write(bytes, 0, (int)buffer.Length);
    }

    /// <summary>The next message, or null when the other side closed the connection (or died).</summary>
    public Message? Receive()
    {
        try
        {
            int length = _reader.ReadInt32();
            byte[] payload = _reader.ReadBytes(length);
            if (payload.Length != length)
                return null;
            using var r = new BinaryReader(new MemoryStream(payload));
            return Message.Read(r);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ObjectDisposedException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _reader.Dispose();
        _stream.Dispose();
    }
}
