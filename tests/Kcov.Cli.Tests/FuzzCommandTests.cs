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
        Assert.Matches(@"#300\tDONE +cov: \d+", result.Error);
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
