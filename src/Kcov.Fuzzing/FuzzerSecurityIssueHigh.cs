namespace Kcov.Fuzzing;

/// <summary>A finding the harness marks as a security issue of high severity (see <see cref="FuzzerSecurityIssue"/>).</summary>
public sealed class FuzzerSecurityIssueHigh(string message, Exception? innerException = null)
    : FuzzerSecurityIssue(message, innerException);
