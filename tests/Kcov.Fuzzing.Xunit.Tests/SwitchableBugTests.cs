using System.Reflection;
using Kcov.Fuzzing.Xunit;
using Kcov.Samples.Targets;

namespace Kcov.Fuzzing.Xunit.Tests;

/// <summary>
/// The dotnet test face on a sample whose bug can be switched off: a crash file is a failing case
/// while the bug is there and a passing one once it is fixed; a bounded fuzz run finds the bug and
/// saves its input where the theory replays it. One class: the switch is process-wide.
/// </summary>
public sealed class SwitchableBugTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("kcov-xunit-tests-").FullName;

    /// <summary>The regression theory as a user writes it, on the fixed code: every file is one passing case.</summary>
    [Theory, FuzzTarget("fuzz/corpus", "fuzz/crashes")]
    public void ReplaysEveryCorpusAndCrashFileOnTheFixedCode(FuzzInput input)
    {
        SwitchableBugTarget.Fixed = true;
        SwitchableBugTarget.Run(input.Data);
    }

    [Fact]
    public void EveryFileIsOneCaseNamedByItsFile()
    {
        var cases = Cases();
        Assert.Equal(["not-a-record", "two-bytes", "crash-d8d77b5282cafacaf200dc5ed170eefcf69c949a"], cases.Select(c => c.ToString()));
    }

    [Fact]
    public void TheCrashCaseFailsUntilTheBugIsFixed()
    {
        var crash = Cases().Single(c => c.Name.StartsWith("crash-", StringComparison.Ordinal));
        SwitchableBugTarget.Fixed = false;
        Assert.Throws<IndexOutOfRangeException>(() => SwitchableBugTarget.Run(crash.Data));
        SwitchableBugTarget.Fixed = true;
        Assert.Equal(-1, SwitchableBugTarget.Run(crash.Data));
    }

    [Fact]
    public void ABoundedFuzzRunFindsTheBugAndSavesItsInputForTheTheory()
    {
        SwitchableBugTarget.Fixed = false;
        string crashes = Path.Combine(_scratch, "crashes");
        var failure = Assert.Throws<FuzzCrashException>(() =>
            FuzzAssert.NoCrash(data => SwitchableBugTarget.Run(data), runs: 20_000, seed: 1, crashDirectory: crashes));
        Assert.StartsWith("The target crashed after ", failure.Message);
        Assert.Contains("System.IndexOutOfRangeException <- Kcov.Samples.Targets.SwitchableBugTarget.Run", failure.Message);
        string saved = Assert.Single(Directory.GetFiles(crashes));
        Assert.Contains($"Saved as {saved}.", failure.Message);
        Assert.Throws<IndexOutOfRangeException>(() => SwitchableBugTarget.Run(File.ReadAllBytes(saved)));

        // The saved file is a case of a theory over that directory.
        var cases = new FuzzTargetAttribute(crashes).GetData(Method).Select(row => (FuzzInput)row[0]).ToList();
        Assert.Equal(Path.GetFileName(saved), Assert.Single(cases).Name);
    }

    [Fact]
    public void OnTheFixedCodeTheBoundedRunEndsCleanWithCoverage()
    {
        SwitchableBugTarget.Fixed = true;
        string corpus = Path.Combine(_scratch, "corpus");
        var result = FuzzAssert.NoCrash(data => SwitchableBugTarget.Run(data), runs: 3_000, seed: 1, corpusDirectory: corpus);
        Assert.Equal(3_000, result.Executions);
        Assert.False(result.Crashed);
        Assert.True(result.Coverage > 3, $"cov {result.Coverage}");
        // -reduce_inputs: the directory holds the corpus, no input that smaller ones replaced (the empty
        // first input may still be in the corpus: it was run, never saved).
        Assert.InRange(Directory.GetFiles(corpus).Length, result.CorpusCount - 1, result.CorpusCount);
    }

    private static MethodInfo Method => typeof(SwitchableBugTests).GetMethod(nameof(ReplaysEveryCorpusAndCrashFileOnTheFixedCode))!;

    private static List<FuzzInput> Cases() =>
        [.. new FuzzTargetAttribute("fuzz/corpus", "fuzz/crashes").GetData(Method).Select(row => (FuzzInput)row[0])];

    public void Dispose()
    {
        try { Directory.Delete(_scratch, recursive: true); } catch (IOException) { }
    }
}
