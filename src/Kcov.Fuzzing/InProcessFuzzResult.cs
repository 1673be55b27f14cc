namespace Kcov.Fuzzing;

/// <summary>What an <see cref="InProcessFuzzer"/> run did and found.</summary>
/// <param name="Executions">Inputs run.</param>
/// <param name="Coverage">Instrumented blocks (PCs) the run covered.</param>
/// <param name="CorpusCount">Inputs in the corpus at the end.</param>
/// <param name="CrashSignature">The first crash's signature (exception type and frames), or null when nothing crashed.</param>
/// <param name="CrashInput">The input that crashed, or null.</param>
/// <param name="CrashReport">The crash report as a campaign prints it (stack, input dump), or null.</param>
public sealed record InProcessFuzzResult(long Executions, int Coverage, int CorpusCount, string? CrashSignature, byte[]? CrashInput, string? CrashReport)
{
    /// <summary>Whether the target threw.</summary>
    public bool Crashed => CrashSignature is not null;
}
