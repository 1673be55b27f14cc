using System.IO.Pipes;
using System.Net.Sockets;
using System.Text;

namespace Kcov.Control;

/// <summary>
/// The control endpoint: this process's kcov device, opened by another process (a fuzzer, a
/// coverage tool) over a local socket, the way user space opens /sys/kernel/debug/kcov. Off
/// until the service starts it (<see cref="Start(string, Action{string}?)"/>, or <see cref="StartFromEnvironment"/> with
/// <c>KCOV_CONTROL=/path/to/socket</c>). One connection is one open descriptor; closing it is
/// close(2). The wire format is in <see cref="ControlProtocol"/> and docs/control-protocol.md.
/// <para>
/// Security, as debugfs's 0600 kcov file: a Unix domain socket (never a TCP port) whose file is
/// made owner-only before it accepts anyone, and, on Linux, a connection from any other user
/// than the service's is closed at once (root included: file modes do not stop root). On Windows,
/// a named pipe limited to the current user.
/// </para>
/// </summary>
public sealed class KcovControlServer : IDisposable
{
    /// <summary>The environment variable <see cref="StartFromEnvironment"/> reads: the socket's path.</summary>
    public const string EnvironmentVariable = "KCOV_CONTROL";

    /// <summary>Open connections at most; more are closed at once (each holds a thread and a descriptor).</summary>
    public const int MaxConnections = 64;

    /// <summary>sun_path holds 108 bytes, the terminating NUL included.</summary>
    private const int MaxSocketPathBytes = 107;

    /// <summary>How long <see cref="Dispose"/> waits for each connection to close its descriptor.</summary>
    private static readonly TimeSpan CloseLimit = TimeSpan.FromSeconds(5);

    private readonly Action<string>? _log;
    private readonly Socket? _listener;
    private readonly bool _namedPipe;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly object _lock = new(); // guards _sessions
    private readonly Dictionary<ControlSession, Thread> _sessions = [];

    private KcovControlServer(string endpoint, bool namedPipe, Action<string>? log)
    {
        Endpoint = endpoint;
        _namedPipe = namedPipe;
        _log = log;
        if (!namedPipe)
            _listener = Listen(endpoint);
        // Nothing of the starting flow (a remote section, a common handle) may follow the server.
        using (ExecutionContext.SuppressFlow())
            _acceptLoop = Task.Run(namedPipe ? AcceptPipesAsync : AcceptSocketsAsync);
    }

    /// <summary>Where clients connect: the socket's path, or the pipe's name on Windows.</summary>
    public string Endpoint { get; }

    /// <summary>Connections open now.</summary>
    public int Connections { get { lock (_lock) return _sessions.Count; } }

    /// <summary>
    /// Serves the device at <paramref name="endpoint"/>: a Unix domain socket path (its directory
    /// must exist; a stale socket left by a dead process is replaced, any other file is an error),
    /// or a pipe name on Windows. <paramref name="log"/> hears refused connections and errors.
    /// </summary>
    /// <exception cref="IOException">The endpoint cannot be served; the message says why and what to do.</exception>
    public static KcovControlServer Start(string endpoint, Action<string>? log = null) =>
        Start(endpoint, OperatingSystem.IsWindows(), log);

    /// <summary><see cref="Start(string, Action{string}?)"/> with the transport chosen: tests run the named pipe on Linux too.</summary>
    internal static KcovControlServer Start(string endpoint, bool namedPipe, Action<string>? log)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        return new KcovControlServer(namedPipe ? endpoint : Path.GetFullPath(endpoint), namedPipe, log);
    }

    /// <summary>Starts the endpoint named by <c>KCOV_CONTROL</c>, or returns null when it is not set (off by default).</summary>
    public static KcovControlServer? StartFromEnvironment(Action<string>? log = null) =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } endpoint ? Start(endpoint, log) : null;

    /// <summary>
    /// Answers control requests from an already connected <paramref name="stream"/> on the calling
    /// thread until it ends (for a transport of the service's own, such as an inherited socket),
    /// then closes the descriptor and the stream. The caller vouches for the peer.
    /// </summary>
    public static void Serve(Stream stream, Action<string>? log = null) => new ControlSession(stream, log).Serve();

    private static Socket Listen(string path)
    {
        if (Encoding.UTF8.GetByteCount(path) > MaxSocketPathBytes)
            throw new IOException($"kcov control: the socket path '{path}' is longer than {MaxSocketPathBytes} bytes, the most a Unix socket address holds; use a shorter path (e.g. under /run or /tmp).");
        string? directory = Path.GetDirectoryName(path);
        if (directory is null || !Directory.Exists(directory))
            throw new IOException($"kcov control: the directory of the socket path '{path}' does not exist; create it (only the service's user should be able to write it) or choose another path.");
        RemoveStaleSocket(path);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            // Owner-only before listen(): until then a connect is refused, so nobody slips in between.
            // (Windows serves a named pipe instead; this path is for Unix.)
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(16);
            return listener;
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            listener.Dispose();
            throw new IOException($"kcov control: cannot serve the socket '{path}' ({e.Message}); check the directory's permissions.", e);
        }
    }

    /// <summary>Replaces a socket nobody serves; refuses a live one or anything that is not a socket.</summary>
    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
            return;
        if (!SocketFile.IsSocket(path))
            throw new IOException($"kcov control: '{path}' exists and is not a socket; the control endpoint will not replace it. Choose another path.");
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path); // left by a process that ended without removing it
            return;
        }
        catch (SocketException e)
        {
            throw new IOException($"kcov control: cannot tell whether the socket '{path}' is in use ({e.Message}); remove it if no process serves it.", e);
        }
        throw new IOException($"kcov control: another process already serves '{path}'; stop it or choose another path.");
    }

    private async Task AcceptSocketsAsync()
    {
        uint self = PeerCredentials.EffectiveUserId;
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _log?.Invoke($"kcov control: accept failed on '{Endpoint}': {e.Message}");
                continue;
            }
            uint? peer;
            try
            {
                peer = PeerCredentials.PeerUserId(client);
            }
            catch (SocketException e)
            {
                _log?.Invoke($"kcov control: closed a connection to '{Endpoint}' whose user cannot be told ({e.Message}).");
                client.Dispose();
                continue;
            }
            if (peer is { } uid && uid != self)
            {
                _log?.Invoke($"kcov control: refused a connection from user {uid} to '{Endpoint}'; only user {self}, who runs the service, may open its kcov device.");
                client.Dispose();
                continue;
            }
            Open(new NetworkStream(client, ownsSocket: true));
        }
    }

    private async Task AcceptPipesAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            NamedPipeServerStream pipe;
            try
            {
                // CurrentUserOnly: the pipe refuses other users (on Unix it also checks the peer's user).
                pipe = new NamedPipeServerStream(Endpoint, PipeDirection.InOut, NamedPipeServerStream.MaxAllowedServerInstances,
                    PipeTransmissionMode.Byte, PipeOptions.CurrentUserOnly | PipeOptions.Asynchronous);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log?.Invoke($"kcov control: cannot serve pipe '{Endpoint}' ({e.Message}); the endpoint stops.");
                return;
            }
            try
            {
                await pipe.WaitForConnectionAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException or UnauthorizedAccessException)
            {
                pipe.Dispose();
                if (e is IOException or UnauthorizedAccessException)
                {
                    _log?.Invoke($"kcov control: refused or lost a connection to pipe '{Endpoint}': {e.Message}");
                    continue;
                }
                return;
            }
            Open(pipe);
        }
    }

    /// <summary>A new descriptor for a connection, served on a thread of its own.</summary>
    private void Open(Stream stream)
    {
        var session = new ControlSession(stream, _log);
        var thread = new Thread(() =>
        {
            session.Serve();
            lock (_lock)
                _sessions.Remove(session);
        })
        {
            IsBackground = true,
            Name = "kcov-control",
        };
        lock (_lock)
        {
            if (_stop.IsCancellationRequested || _sessions.Count >= MaxConnections)
            {
                if (!_stop.IsCancellationRequested)
                    _log?.Invoke($"kcov control: refused a connection to '{Endpoint}': {MaxConnections} are open already.");
                stream.Dispose();
                return;
            }
            _sessions.Add(session, thread);
        }
        thread.Start();
    }

    /// <summary>
    /// Stops accepting, closes every connection (each descriptor is closed on its own thread, its
    /// area freed once nothing else holds it) and removes the socket file.
    /// </summary>
    public void Dispose()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        _listener?.Dispose();
        try { _acceptLoop.Wait(CloseLimit); } catch (AggregateException) { }
        List<KeyValuePair<ControlSession, Thread>> open;
        lock (_lock)
            open = [.. _sessions];
        foreach (var (session, _) in open)
            session.Stop();
        foreach (var (_, thread) in open)
            thread.Join(CloseLimit);
        if (!_namedPipe && SocketFile.IsSocket(Endpoint))
        {
            try { File.Delete(Endpoint); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        _stop.Dispose();
    }
}
