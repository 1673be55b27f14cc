namespace Kcov.Fuzzing;

/// <summary>A finding the harness marks as a security issue of low severity (see <see cref="FuzzerSecurityIssue"/>).</summary>
public sealed class FuzzerSecurityIssueLow(string message, Exception? innerException = null)
    : FuzzerSecurityIssue(message, innerException);
