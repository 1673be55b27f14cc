namespace Kcov.Fuzzing.Tests;

/// <summary>What used to go wrong without a word: each now says so in one exact line.</summary>
public class SilentFailureTests
{
    [Fact]
    public void AHarnessRunAgainstUninstrumentedCodeStopsWithLibFuzzersError()
    {
        using var dir = new ScratchDirectory();
        // The build output's copy of the samples: nothing in it is instrumented.
        string plain = Path.Combine(AppContext.BaseDirectory, "Kcov.Samples.dll");
        var (exit, _, stderr) = HarnessProcess.Run(dir.Path, plain, ["magic", "-runs=1000", "-seed=1", "corpus"]);
        Assert.Equal(1, exit);
        Assert.Contains("ERROR: no interesting inputs were found. Is the code instrumented for coverage? " +
            "Run the harness with `dotnet kcov fuzz Harness.dll`, or instrument its targets with `dotnet kcov instrument --trace pc,cmp`.",
            stderr.Split('\n').Select(l => l.TrimEnd('\r')));
        Assert.DoesNotContain("DONE", stderr);
    }

    [Fact]
    public void AMissingCorpusDirectoryIsCreatedWithANoteNamingIt()
    {
        using var dir = new ScratchDirectory();
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "magic", "-use_cmp=0", "-runs=50", "-seed=1", "corpsu", "seeds");
        Assert.True(exit == 0, stderr);
        var lines = stderr.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains("INFO: corpus directory 'corpsu' did not exist; created it (new inputs are saved there)", lines);
        Assert.Contains("INFO: corpus directory 'seeds' does not exist; no inputs read from it", lines);
        Assert.True(Directory.Exists(dir["corpsu"]));
        Assert.False(Directory.Exists(dir["seeds"]));
    }
}
