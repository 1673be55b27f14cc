namespace Kcov.Fuzzing;

/// <summary>A finding the harness marks as a security issue of critical severity (see <see cref="FuzzerSecurityIssue"/>).</summary>
public sealed class FuzzerSecurityIssueCritical(string message, Exception? innerException = null)
    : FuzzerSecurityIssue(message, innerException);
