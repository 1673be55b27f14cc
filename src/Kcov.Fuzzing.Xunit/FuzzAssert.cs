namespace Kcov.Fuzzing.Xunit;

/// <summary>A short, bounded fuzz run as a test (in the test process: see <see cref="InProcessFuzzer"/>).</summary>
public static class FuzzAssert
{
    /// <summary>
    /// Fuzzes <paramref name="target"/> for <paramref name="runs"/> executions and fails with the crash report
    /// if it throws (<see cref="FuzzCrashException"/>). With <paramref name="crashDirectory"/>, the crashing input is saved there as
    /// <c>crash-&lt;sha1&gt;</c>, so that a <see cref="FuzzTargetAttribute"/> theory over that directory
    /// replays it from then on.
    /// </summary>
    public static InProcessFuzzResult NoCrash(Action<ReadOnlySpan<byte>> target, long runs, int seed = 1,
        string? corpusDirectory = null, string? crashDirectory = null, int maxLen = 4096)
    {
        var result = InProcessFuzzer.Run(target, runs, seed, corpusDirectory, maxLen);
        if (!result.Crashed)
            return result;
        string saved = "";
        if (crashDirectory is not null)
        {
            Directory.CreateDirectory(crashDirectory);
            string path = Path.Combine(crashDirectory, "crash-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(result.CrashInput!)));
            File.WriteAllBytes(path, result.CrashInput!);
            saved = $"\nSaved as {path}.";
        }
        throw new FuzzCrashException($"The target crashed after {result.Executions} executions: {result.CrashSignature}{saved}\n{result.CrashReport}", result);
    }
}
