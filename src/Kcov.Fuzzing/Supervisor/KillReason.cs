namespace Kcov.Fuzzing.Supervisor;

/// <summary>Why the supervisor ended an executor.</summary>
internal enum KillReason { None, Timeout, Rss, Stop }
