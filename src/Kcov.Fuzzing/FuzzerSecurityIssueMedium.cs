namespace Kcov.Fuzzing;

/// <summary>A finding the harness marks as a security issue of medium severity (see <see cref="FuzzerSecurityIssue"/>).</summary>
public sealed class FuzzerSecurityIssueMedium(string message, Exception? innerException = null)
    : FuzzerSecurityIssue(message, innerException);
