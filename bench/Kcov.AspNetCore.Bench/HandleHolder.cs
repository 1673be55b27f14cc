using Kcov.Fuzzing;

namespace Kcov.AspNetCore.Bench;

/// <summary>
/// A client holding a common handle on a service's device for the whole measurement, as a fuzzer
/// does, so requests with its header really run as remote sections; its area is reset every
/// millisecond (a fuzzer resets it per input), so traced requests keep writing rather than dropping.
/// </summary>
internal sealed class HandleHolder : IDisposable
{
    private readonly KcovRemoteDevice _device;
    private readonly KcovArea _area;
    private readonly Thread _resetter;
    private volatile bool _stop;

    private HandleHolder(KcovRemoteDevice device, KcovArea area, ulong handle)
    {
        _device = device;
        _area = area;
        Header = $"0x{handle:x16}";
        _resetter = new Thread(() =>
        {
            while (!_stop)
            {
                Volatile.Write(ref _area.Words[0], 0);
                Thread.Sleep(1);
            }
        }) { IsBackground = true };
        _resetter.Start();
    }

    /// <summary>The kcov-handle header value.</summary>
    public string Header { get; }

    public static HandleHolder Open(string socket)
    {
        var device = KcovRemoteDevice.Open(socket);
        device.InitTrace(1 << 20);
        var area = device.Map();
        ulong handle = KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, 0x4b43);
        device.RemoteEnable(KcovMode.TracePc, 1 << 16, [], handle);
        return new HandleHolder(device, area, handle);
    }

    public void Dispose()
    {
        _stop = true;
        _resetter.Join();
        _area.Dispose();
        _device.Dispose();
    }
}
