using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Something an executor did: sent a message, or ended. An end is clean (after Done, exit 0,
/// <see cref="Death"/> null) or a death, with the report and the input that was running
/// (null when it died between inputs) and the hash of the corpus input that one was derived from (0: none).
/// A hanging input whose thread was parked (<see cref="Parked"/>) is reported like a death, but the executor lives on.
/// </summary>
internal sealed record PoolEvent(ExecutorProcess Executor, Message? Message, CrashReport? Death = null, byte[]? DeathInput = null, ulong DeathParent = 0,
    KillReason? Parked = null)
{
    /// <summary>Why the input was ended: the kill, or the reason its thread was parked.</summary>
    public KillReason Reason => Parked ?? Executor.Killed;
}
