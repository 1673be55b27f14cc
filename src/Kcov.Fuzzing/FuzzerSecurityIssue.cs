namespace Kcov.Fuzzing;

/// <summary>
/// Thrown by a harness to report a finding as a security issue: an input that makes the code do
/// something it must never do (read a file it was not given, run a command, skip a check) without
/// crashing by itself. Throw one of <see cref="FuzzerSecurityIssueLow"/>, <see cref="FuzzerSecurityIssueMedium"/>,
/// <see cref="FuzzerSecurityIssueHigh"/> or <see cref="FuzzerSecurityIssueCritical"/>: the report names
/// the exception type, and ClusterFuzz marks any report that contains
/// <c>FuzzerSecurityIssue(Critical|High|Medium|Low)</c> as a security issue of that severity (the
/// convention Jazzer's exceptions of the same names use). Every other exception is reported as
/// an ordinary, non-security crash.
/// </summary>
public abstract class FuzzerSecurityIssue : Exception
{
    private protected FuzzerSecurityIssue(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
