using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Kcov.Control;
using Kcov.Fuzzing;

namespace Kcov.AspNetCore.Tests;

/// <summary>
/// The control endpoint as a security boundary and a protocol: owner-only, other users refused,
/// kcov's errnos passed through with their reasons, and malformed, truncated or oversized messages
/// answered with an errno or a closed connection while the service goes on.
/// Unix domain sockets and their modes: these tests are for Linux (as the rest of the suite).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class ControlEndpointTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _socket;
    private readonly KcovControlServer _server;

    public ControlEndpointTests()
    {
        _socket = _dir.Combine("kcov.sock");
        _server = KcovControlServer.Start(_socket);
    }

    [Fact]
    public void TheSocketIsOwnerOnly()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_socket));
    }

    [Fact]
    public void AnotherUsersConnectionIsRefusedByTheModeAndByItsPeerCredentials()
    {
        const uint Nobody = 65534;
        if (!RunAsUser(Nobody, () => { }))
            return; // not root, or no CAP_SETUID here: the mode bits (above) are what can be checked
        // The mode bits: the kernel refuses the connect.
        Exception? refused = null;
        Assert.True(RunAsUser(Nobody, () => refused = Record.Exception(() => Connect().Dispose())));
        Assert.Equal(SocketError.AccessDenied, Assert.IsType<SocketException>(refused).SocketErrorCode);

        // With the mode opened up, the endpoint itself closes the connection of another user.
        File.SetUnixFileMode(_socket, (UnixFileMode)0b110_110_110);
        bool closed = false;
        Assert.True(RunAsUser(Nobody, () =>
        {
            using var socket = Connect();
            socket.Send(ControlProtocol.IoctlRequest(KcovAbi.InitTrace, 64));
            closed = IsClosed(socket);
        }));
        Assert.True(closed, "the endpoint answered another user");
        // The service's own user is still served.
        using var device = KcovRemoteDevice.Open(_socket);
        device.InitTrace(64);
    }

    [Fact]
    public void IoctlsReachTheDeviceAndComeBackWithKcovsErrnosAndReasons()
    {
        using var device = KcovRemoteDevice.Open(_socket);
        Assert.Equal(-Errno.EINVAL, device.Ioctl(KcovAbi.InitTrace, 1));
        Assert.Equal(-Errno.ENOTTY, device.Ioctl(0xdeadbeef, 0));
        Assert.Equal(-Errno.EINVAL, device.Ioctl(KcovAbi.Disable, 0));
        // KCOV_REMOTE_ENABLE's struct, byte for byte: too short for num_handles, then too many handles.
        Assert.Equal(-Errno.EFAULT, device.Ioctl(KcovAbi.RemoteEnable, new byte[8]));
        var tooMany = new byte[KcovAbi.RemoteArgHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(tooMany.AsSpan(8), KcovAbi.RemoteMaxHandles + 1);
        Assert.Equal(-Errno.EINVAL, device.Ioctl(KcovAbi.RemoteEnable, tooMany));
        // Without a struct, KCOV_REMOTE_ENABLE has no memory to read: EFAULT, as from a bad pointer.
        Assert.Equal(-Errno.EFAULT, device.Ioctl(KcovAbi.RemoteEnable, 0));

        device.InitTrace(1 << 10);
        var busy = Assert.Throws<KcovBusyException>(() => device.InitTrace(1 << 10));
        Assert.Contains("KCOV_INIT_TRACE may be issued once", busy.Message);
        Assert.Equal(-Errno.EINVAL, device.Mmap(8, 0, out var none));
        Assert.Null(none);
        ulong handle = KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, (ulong)Random.Shared.Next(1, int.MaxValue));
        Assert.Throws<KcovInvalidArgumentException>(() => device.RemoteEnable(KcovMode.TracePc, 64, [], handle)); // not mapped yet
        using var area = device.Map();
        Assert.Equal(1 << 10, area.WordCount);
        device.RemoteEnable(KcovMode.TracePc, 64, [], handle);

        // A second descriptor cannot take the same handle.
        using var other = KcovRemoteDevice.Open(_socket);
        other.InitTrace(64);
        using var otherArea = other.Map();
        var taken = Assert.Throws<KcovHandleInUseException>(() => other.RemoteEnable(KcovMode.TracePc, 64, [], handle));
        Assert.Contains("already held by another device", taken.Message);
    }

    [Fact]
    public void AWaitNeedsACommonHandleAndReturnsAtOnceWithNothingInFlight()
    {
        using var device = KcovRemoteDevice.Open(_socket);
        Assert.Throws<KcovInvalidArgumentException>(() => device.WaitIdle(TimeSpan.FromSeconds(1)));
        device.InitTrace(64);
        using var area = device.Map();
        device.RemoteEnable(KcovMode.TracePc, 64, [], KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, (ulong)Random.Shared.Next(1, int.MaxValue)));
        Assert.Empty(device.WaitIdle(TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0, 1, 0 }, Errno.EINVAL)] // a body shorter than its op
    [InlineData(new byte[] { 4, 0, 0, 0, 9, 0, 0, 0 }, Errno.EINVAL)] // an unknown op
    [InlineData(new byte[] { 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 }, Errno.EINVAL)] // an ioctl without its fields
    [InlineData(new byte[] { 20, 0, 0, 0, 1, 0, 0, 0, 1, 0x63, 0x08, 0x80, 1, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0 }, Errno.EINVAL)] // reserved not 0
    [InlineData(new byte[] { 21, 0, 0, 0, 1, 0, 0, 0, 102, 99, 24, 0x40, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7 }, Errno.EINVAL)] // a value and a struct
    [InlineData(new byte[] { 5, 0, 0, 0, 2, 0, 0, 0, 0 }, Errno.EINVAL)] // an mmap of the wrong size
    [InlineData(new byte[] { 12, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 }, Errno.EINVAL)] // a wait with reserved bits
    public void AMalformedMessageGetsAnErrnoAndTheConnectionGoesOn(byte[] frame, int errno)
    {
        using var socket = Connect();
        socket.Send(frame);
        Assert.Equal(-errno, ReadResult(socket));
        // The same connection still works: the frame's length kept the stream in step.
        socket.Send(ControlProtocol.IoctlRequest(KcovAbi.InitTrace, 64));
        Assert.Equal(0, ReadResult(socket));
    }

    [Theory]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0 })] // oversized: 2 GB announced
    [InlineData(new byte[] { 0x01, 0x00, 0x01, 0x00, 1, 0, 0, 0 })] // 65537 bytes: one over the limit
    public void AnOversizedMessageClosesTheConnection(byte[] frame)
    {
        using var socket = Connect();
        socket.Send(frame);
        Assert.True(IsClosed(socket));
        AssertStillServing();
    }

    [Theory]
    [InlineData(new byte[] { 20, 0 })] // inside the length
    [InlineData(new byte[] { 20, 0, 0, 0, 1, 0, 0, 0, 1, 0 })] // inside the body
    public void ATruncatedMessageClosesTheConnection(byte[] frame)
    {
        using var socket = Connect();
        socket.Send(frame);
        socket.Shutdown(SocketShutdown.Send);
        Assert.True(IsClosed(socket));
        AssertStillServing();
    }

    [Fact]
    public void ConnectionsBeyondTheLimitAreClosedAndRoomComesBackWhenOneCloses()
    {
        var devices = Enumerable.Range(0, KcovControlServer.MaxConnections).Select(_ => KcovRemoteDevice.Open(_socket)).ToList();
        try
        {
            foreach (var device in devices)
                Assert.Equal(-Errno.EINVAL, device.Ioctl(KcovAbi.Disable, 0));
            using (var extra = KcovRemoteDevice.Open(_socket))
                Assert.Throws<IOException>(() => extra.Ioctl(KcovAbi.Disable, 0));
            devices[0].Dispose();
            Until(() => _server.Connections < KcovControlServer.MaxConnections);
            using var next = KcovRemoteDevice.Open(_socket);
            Assert.Equal(-Errno.EINVAL, next.Ioctl(KcovAbi.Disable, 0));
        }
        finally
        {
            devices.ForEach(d => d.Dispose());
        }
    }

    [Fact]
    public void StoppingTheServerClosesEveryDescriptorFreesTheirAreasAndRemovesTheSocket()
    {
        using var device = KcovRemoteDevice.Open(_socket);
        device.InitTrace(64);
        using var area = device.Map();
        device.RemoteEnable(KcovMode.TracePc, 64, [], KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, (ulong)Random.Shared.Next(1, int.MaxValue)));

        _server.Dispose();

        Assert.ThrowsAny<Exception>(() => KcovArea.OpenShared(area.SharedName).Dispose()); // the device is freed
        Assert.False(File.Exists(_socket), "the socket outlived the server");
        var lost = Assert.Throws<IOException>(() => device.Disable());
        Assert.Contains("stopped answering", lost.Message);
    }

    [Fact]
    public void AStaleSocketIsReplacedButALiveOneOrAnotherFileIsNot()
    {
        string stale = _dir.Combine("stale.sock");
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            dead.Bind(new UnixDomainSocketEndPoint(stale)); // closed without removing its file, as a killed process leaves it
        using (KcovControlServer.Start(stale))
        using (var device = KcovRemoteDevice.Open(stale))
            device.InitTrace(64);

        var live = Assert.Throws<IOException>(() => KcovControlServer.Start(_socket));
        Assert.Contains("another process already serves", live.Message);

        string file = _dir.Combine("notes.txt");
        File.WriteAllText(file, "the user's");
        var other = Assert.Throws<IOException>(() => KcovControlServer.Start(file));
        Assert.Contains("exists and is not a socket", other.Message);
        Assert.Equal("the user's", File.ReadAllText(file));

        var missing = Assert.Throws<IOException>(() => KcovControlServer.Start(_dir.Combine("no", "such", "dir.sock")));
        Assert.Contains("does not exist", missing.Message);
    }

    [Fact]
    public void KcovControlNamesTheEndpointAndItsAbsenceLeavesItOff()
    {
        string path = _dir.Combine("env.sock");
        try
        {
            Environment.SetEnvironmentVariable(KcovControlServer.EnvironmentVariable, null);
            Assert.Null(KcovControlServer.StartFromEnvironment());
            Environment.SetEnvironmentVariable(KcovControlServer.EnvironmentVariable, path);
            using var server = KcovControlServer.StartFromEnvironment();
            Assert.Equal(path, server!.Endpoint);
            using var device = KcovRemoteDevice.Open(path);
            device.InitTrace(64);
        }
        finally
        {
            Environment.SetEnvironmentVariable(KcovControlServer.EnvironmentVariable, null);
        }
    }

    [Fact]
    public void TheNamedPipeTransportServesTheSameProtocol()
    {
        string name = $"kcov-test-{Guid.NewGuid():N}";
        using var server = KcovControlServer.Start(name, namedPipe: true, log: null);
        using var device = KcovRemoteDevice.Open(name, namedPipe: true);
        device.InitTrace(128);
        using var area = device.Map();
        Assert.Equal(128, area.WordCount);
        Assert.Equal(-Errno.EBUSY, device.Ioctl(KcovAbi.InitTrace, 64));
    }

    private Socket Connect()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(_socket));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True when the other end closed: end of stream, or a reset (a close with our bytes still unread there).</summary>
    private static bool IsClosed(Socket socket)
    {
        try
        {
            return socket.Receive(new byte[64]) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    private static int ReadResult(Socket socket)
    {
        using var stream = new NetworkStream(socket, ownsSocket: false);
        var reply = ControlProtocol.ReadFrame(stream, ControlProtocol.MaxReplyBody);
        Assert.NotNull(reply);
        return BinaryPrimitives.ReadInt32LittleEndian(reply);
    }

    private void AssertStillServing()
    {
        using var device = KcovRemoteDevice.Open(_socket);
        device.InitTrace(64);
        using var area = device.Map();
    }

    private static void Until(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), "the condition never came true");
            Thread.Sleep(5);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a thread of its own whose effective user is <paramref name="uid"/>
    /// (the raw setresuid system call changes the calling thread only; glibc's would change every
    /// thread), then restores it. False if this process may not change users (not root).
    /// </summary>
    private static bool RunAsUser(uint uid, Action action)
    {
        long setresuid = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 117,
            Architecture.Arm64 => 147,
            _ => -1,
        };
        if (!OperatingSystem.IsLinux() || setresuid < 0)
            return false;
        bool switched = false;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            if (syscall(setresuid, -1, uid, -1) != 0)
                return;
            switched = true;
            try { action(); }
            catch (Exception e) { failure = e; }
            finally
            {
                if (syscall(setresuid, -1, 0, -1) != 0)
                    Environment.FailFast("could not switch a test thread back to root");
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw new InvalidOperationException($"failed as user {uid}", failure);
        return switched;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long a, long b, long c);

    public void Dispose()
    {
        _server.Dispose();
        _dir.Dispose();
    }
}
