namespace Kcov;

/// <summary>
/// Named points inside the race windows that kcov.c's comments name, so that tests can park a
/// thread exactly there and force the interleaving that matters (tests/Kcov.Runtime.Tests/RaceTests.cs).
/// Null outside those tests: each point costs one static load on paths that are not the trace path.
/// </summary>
internal static class RaceHooks
{
    /// <summary>An ioctl or mmap of the device is about to take kcov->lock.</summary>
    internal static Action<KcovDevice>? DeviceLocking;

    /// <summary>kcov_put() dropped the last reference and is about to free the device and its area.</summary>
    internal static Action<KcovDevice>? DeviceFreeing;

    /// <summary>A thread has found the section running and is about to start its part of it.</summary>
    internal static Action<RemoteSection>? PartStarting;
}
