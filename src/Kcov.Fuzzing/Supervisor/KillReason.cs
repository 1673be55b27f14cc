namespace Kcov.Fuzzing.Supervisor;

/// <summary>Why the supervisor ended an executor.</summary>
internal enum KillReason
{
    None,
    /// <summary>Its input ran past -timeout.</summary>
    Timeout,
    Rss,
    Stop,
    /// <summary>Its input, derived from a parent whose children hang, ran past the short timeout.</summary>
    ShortTimeout,
    /// <summary>Its input was caught in the loop of a hang already reported (cut early).</summary>
    KnownHang,
    /// <summary>It wrote garbage into the control block or its socket (see <see cref="ExecutorProcess.Garbage"/>).</summary>
    Garbage,
}
