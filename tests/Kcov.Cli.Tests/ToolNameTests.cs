namespace Kcov.Cli.Tests;

/// <summary>The tool is dotnet-kcov (run as `dotnet kcov`), and libFuzzer's flags after a harness reach the harness.</summary>
public sealed class ToolNameTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public void HelpNamesTheTool()
    {
        var result = Kcov.RunProcess("--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:\n  dotnet-kcov [command] [options]", result.Out.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("Kcov.Cli", result.Out);
    }

    [Fact]
    public void FuzzHelpFlagShowsTheFuzzersFlags()
    {
        var result = Kcov.Run("fuzz", Path.Combine(AppContext.BaseDirectory, "Kcov.Samples.dll"), "-o", _dir.Combine("app"), "magic", "-help=1");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("Usage: Kcov.Samples.dll [-flag=value ...]", result.Out);
        Assert.Contains("max_total_time", result.Out);
        Assert.DoesNotContain("Show help and usage information", result.Out + result.Error);
    }

    public void Dispose() => _dir.Dispose();
}
