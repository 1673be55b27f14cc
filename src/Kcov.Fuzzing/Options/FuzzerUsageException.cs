namespace Kcov.Fuzzing.Options;

/// <summary>The user gave a bad flag, file or directory: printed as one line, exit code 1, no stack trace.</summary>
internal sealed class FuzzerUsageException(string message) : Exception(message);
