using System.Collections.Concurrent;

namespace Kcov.AspNetCore;

/// <summary>
/// The global handle of one long-lived worker, such as a <c>BackgroundService</c> loop: kcov's
/// USB hub-event pattern. Each worker instance gets a handle made of a registered subsystem id and
/// an instance id; a client that registers that handle (KCOV_REMOTE_ENABLE's handles) collects
/// the coverage of the worker's iterations and of nothing else.
/// <code>
/// var worker = KcovWorker.Next(2, "cleanup");           // subsystem 2, instances 1, 2, ...
/// while (await timer.WaitForNextTickAsync(ct))
///     await worker.RunIterationAsync(() => CleanUpAsync(ct));   // one remote section per iteration
/// </code>
/// Keep waiting for work outside the iteration: a section is the work done for one event.
/// </summary>
public sealed class KcovWorker
{
    private static readonly ConcurrentDictionary<byte, int> s_lastInstance = new();

    /// <summary>A worker with the handle (<paramref name="subsystemId"/>, <paramref name="instanceId"/>); registers the subsystem.</summary>
    /// <exception cref="InvalidOperationException">The subsystem id is registered under another name.</exception>
    public KcovWorker(byte subsystemId, string subsystemName, uint instanceId)
    {
        ulong subsystem = Remote.RegisterSubsystem(subsystemId, subsystemName);
        Handle = KcovAbi.RemoteHandle(subsystem, instanceId);
    }

    /// <summary>A worker with the next instance id of the subsystem in this process: 1, 2, ... in creation order.</summary>
    public static KcovWorker Next(byte subsystemId, string subsystemName)
    {
        // Registered first, so a wrong name fails before an instance id is used up.
        Remote.RegisterSubsystem(subsystemId, subsystemName);
        int instance = s_lastInstance.AddOrUpdate(subsystemId, 1, (_, last) => last + 1);
        return new KcovWorker(subsystemId, subsystemName, (uint)instance);
    }

    /// <summary>The global handle: <c>KcovAbi.RemoteHandle(subsystem, instance)</c>.</summary>
    public ulong Handle { get; }

    /// <summary>One iteration as a scope: <c>using (worker.Iteration()) { ... }</c>; it may cross awaits.</summary>
    public RemoteSectionScope Iteration() => Remote.Section(Handle);

    /// <summary>Runs one iteration of the loop as a remote section of this worker's handle.</summary>
    public async Task RunIterationAsync(Func<Task> iteration)
    {
        ArgumentNullException.ThrowIfNull(iteration);
        using (Remote.Section(Handle))
            await iteration().ConfigureAwait(false);
    }
}
