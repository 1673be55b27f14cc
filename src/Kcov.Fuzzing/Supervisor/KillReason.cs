namespace Kcov.Fuzzing.Supervisor;

/// <summary>Why the supervisor ended an executor.</summary>
internal enum KillReason
{
    None,
    Timeout,
    Rss,
    Stop,
    /// <summary>It wrote garbage into the control block or its socket (see <see cref="ExecutorProcess.Garbage"/>).</summary>
    Garbage,
}
