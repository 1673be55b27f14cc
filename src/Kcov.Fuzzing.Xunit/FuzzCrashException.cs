namespace Kcov.Fuzzing.Xunit;

/// <summary>A bounded fuzz run found a crash; the message is the crash report.</summary>
public sealed class FuzzCrashException(string message, InProcessFuzzResult result) : Exception(message)
{
    /// <summary>The run, with the crashing input.</summary>
    public InProcessFuzzResult Result { get; } = result;
}
