using Kcov.Control;
using Kcov.Fuzzing;

namespace Kcov.AspNetCore.Tests;

/// <summary>
/// A client of a service's kcov device over its control endpoint, as a fuzzer holds it: the device,
/// the service's area mapped here, and the handle it collects for.
/// </summary>
internal sealed class CoverageClient : IDisposable
{
    private const int AreaWords = 1 << 16;
    private static int s_lastId = Random.Shared.Next(1 << 20, 1 << 30);

    private CoverageClient(KcovRemoteDevice device, KcovArea area, ulong handle)
    {
        Device = device;
        Area = area;
        Handle = handle;
    }

    public KcovRemoteDevice Device { get; }
    public KcovArea Area { get; }
    public ulong Handle { get; }

    /// <summary>A client with a fresh common handle (unique in this process, whose remote map every test shares).</summary>
    public static CoverageClient Common(string socket, KcovMode mode = KcovMode.TracePc)
    {
        ulong handle = KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, (ulong)Interlocked.Increment(ref s_lastId));
        return Open(socket, mode, [], handle);
    }

    /// <summary>A client registered for one global handle (a worker's).</summary>
    public static CoverageClient Global(string socket, ulong handle) => Open(socket, KcovMode.TracePc, [handle], 0);

    private static CoverageClient Open(string socket, KcovMode mode, ulong[] handles, ulong common)
    {
        var device = KcovRemoteDevice.Open(socket);
        device.InitTrace(AreaWords);
        var area = device.Map();
        device.RemoteEnable(mode, 1 << 12, handles, common);
        return new CoverageClient(device, area, common != 0 ? common : handles[0]);
    }

    /// <summary>The PCs in the area now.</summary>
    public ulong[] Pcs()
    {
        var words = Area.Words;
        return words.Slice(1, (int)Math.Min(Volatile.Read(ref words[0]), (ulong)words.Length - 1)).ToArray();
    }

    public void Reset() => Volatile.Write(ref Area.Words[0], 0);

    /// <summary>A POST with the body, carrying this client's handle (or no header at all).</summary>
    public HttpRequestMessage Post(Uri baseAddress, string path, byte[] body, bool withHandle = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, path)) { Content = new ByteArrayContent(body) };
        if (withHandle)
            request.Headers.Add(ControlProtocol.HandleHeader, $"0x{Handle:x16}");
        return request;
    }

    public IReadOnlyList<string> WaitIdle() => Device.WaitIdle(TimeSpan.FromSeconds(60));

    public void Dispose()
    {
        Area.Dispose();
        Device.Dispose();
    }
}
