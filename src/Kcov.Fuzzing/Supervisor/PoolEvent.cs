using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Something an executor did: sent a message, or ended. An end is clean (after Done, exit 0,
/// <see cref="Death"/> null) or a death, with the report and the input that was running
/// (null when it died between inputs) and the hash of the corpus input that one was derived from (0: none).
/// </summary>
internal sealed record PoolEvent(ExecutorProcess Executor, Message? Message, CrashReport? Death = null, byte[]? DeathInput = null, ulong DeathParent = 0);
