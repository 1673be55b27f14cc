namespace Kcov.Cli.Tests;

/// <summary>`dotnet kcov fuzz`: instrument a harness's targets, then run the harness with libFuzzer's flags.</summary>
public sealed class FuzzCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static string Samples => Path.Combine(AppContext.BaseDirectory, "Kcov.Samples.dll");

    [Fact]
    public void FuzzInstrumentsTheHarnessTargetsAndFindsThePlantedBug()
    {
        string output = _dir.Combine("app");
        var result = Kcov.Run("fuzz", Samples, "-o", output, "magic", "-runs=1000", "-seed=1",
            $"-artifact_prefix={_dir.Path}{Path.DirectorySeparatorChar}", _dir.Combine("corpus"));
        Assert.True(result.ExitCode == 77, result.Error);
        Assert.Contains("kcov: instrumented Kcov.Samples.Targets.dll", result.Error);
        Assert.Contains("planted bug: the magic number was accepted", result.Error);
        Assert.True(File.Exists(Path.Combine(output, "Kcov.Samples.Targets.kcovmap")));
        Assert.False(File.Exists(Path.Combine(output, "Kcov.Fuzzing.kcovmap")));
        // The harness's own frames in crash reports get their lines.
        Assert.True(File.Exists(Path.Combine(output, "Kcov.Samples.pdb")));
        Assert.Single(Directory.GetFiles(_dir.Path, "crash-*"));
    }

    [Fact]
    public void InstrumentNamesTheTargetsExplicitly()
    {
        string output = _dir.Combine("app");
        var result = Kcov.Run("fuzz", Samples, "-o", output, "--instrument", "Kcov.Samples.Targets.dll", "--instrument", "Markdig.dll",
            "markdown", "-runs=300", "-seed=1");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.True(File.Exists(Path.Combine(output, "Markdig.kcovmap")));
        // Markdig 1.4.1's package ships no PDB (a real package, from the restore's packages folder).
        Assert.Contains("kcov: warning: no PDB for Markdig.dll (not beside it, not embedded, not in its NuGet package Markdig 1.4.1): "
            + "crash frames and coverage reports will have no source lines; put its matching Markdig.pdb beside it (e.g. from the package's .snupkg symbols package)\n", result.Error.ReplaceLineEndings("\n"));
        Assert.Matches(@"#300\tDONE +cov: \d+", result.Error);
    }

    [Fact]
    public void FuzzKeepsACampaignGoingAfterFindingsUnlessTold()
    {
        string seeds = _dir.Combine("seeds");
        Directory.CreateDirectory(seeds);
        File.WriteAllText(Path.Combine(seeds, "a"), "THRW");
        File.WriteAllText(Path.Combine(seeds, "b"), "THRD");
        string output = _dir.Combine("app");
        string Artifacts(string name) => $"-artifact_prefix={_dir.Combine(name)}{Path.DirectorySeparatorChar}";
        Directory.CreateDirectory(_dir.Combine("going"));
        Directory.CreateDirectory(_dir.Combine("stopping"));

        // -runs=2: the two seeds and no mutation, which could reach the target's other planted failures
        // (its comparisons give the fuzzer their words); -timeout in case one is a hang all the same.
        var going = Kcov.Run("fuzz", Samples, "-o", output, "crashkinds", "-runs=2", "-seed=1", "-auto_dict=0", "-timeout=60", Artifacts("going"), _dir.Combine("c1"), seeds);
        Assert.True(going.ExitCode == 77, going.Error);
        Assert.Equal(2, Directory.GetFiles(_dir.Combine("going")).Length);

        // libFuzzer's default, asked for: the first finding ends the campaign.
        var stopping = Kcov.Run("fuzz", Samples, "-o", output, "crashkinds", "-runs=2", "-seed=1", "-auto_dict=0", "-timeout=60", "-ignore_crashes=0",
            Artifacts("stopping"), _dir.Combine("c2"), seeds);
        Assert.True(stopping.ExitCode == 77, stopping.Error);
        Assert.Single(Directory.GetFiles(_dir.Combine("stopping")));
    }

    [Fact]
    public void AMissingHarnessIsOneLine()
    {
        var result = Kcov.Run("fuzz", _dir.Combine("nope.dll"), "-runs=1");
        Assert.Equal(KcovCli.UserError, result.ExitCode);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.StartsWith("kcov: ", result.Error);
    }

    public void Dispose() => _dir.Dispose();
}
