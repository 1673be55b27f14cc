namespace Kcov.Fuzzing.Executor;

/// <summary>This process's kcov device, as <see cref="IKcovDevice"/>.</summary>
internal sealed class LocalKcovDevice : IKcovDevice
{
    private readonly KcovDevice _device = KcovDevice.Open();

    public void InitTrace(int words) => _device.InitTrace(words);

    public KcovArea Map() => _device.Map();

    public void Enable(KcovMode mode) => _device.Enable(mode);

    public void EnableUnique(int bitmapWords) => _device.EnableUnique(bitmapWords);

    public void Disable() => _device.Disable();

    public void RemoteEnable(KcovMode mode, uint areaSize, ReadOnlySpan<ulong> handles, ulong commonHandle = 0) =>
        _device.RemoteEnable(mode, areaSize, handles, commonHandle);

    public void Dispose() => _device.Dispose();
}
