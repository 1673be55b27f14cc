namespace Kcov.Fuzzing.Executor;

/// <summary>
/// The calls <see cref="TargetRunner"/> makes on a kcov descriptor: the device of this process
/// (<see cref="LocalKcovDevice"/>) or that of a service, over its control endpoint
/// (<see cref="KcovRemoteDevice"/>). Both throw <see cref="KcovException"/> with kcov's errnos.
/// </summary>
internal interface IKcovDevice : IDisposable
{
    void InitTrace(int words);

    KcovArea Map();

    void Enable(KcovMode mode);

    void EnableUnique(int bitmapWords);

    void Disable();

    void RemoteEnable(KcovMode mode, uint areaSize, ReadOnlySpan<ulong> handles, ulong commonHandle = 0);
}
