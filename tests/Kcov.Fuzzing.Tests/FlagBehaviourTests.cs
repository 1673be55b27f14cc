namespace Kcov.Fuzzing.Tests;

/// <summary>libFuzzer flags that change what a campaign does, through the harness process.</summary>
public class FlagBehaviourTests
{
    [Fact]
    public void CloseFdMaskDropsTheTargetsOutput()
    {
        using var dir = new ScratchDirectory();
        var loud = HarnessProcess.Run(dir.Path, "noisy", "-runs=20");
        Assert.Contains("TARGET-STDOUT", loud.Stdout);
        Assert.Contains("TARGET-STDERR", loud.Stderr);

        var quiet = HarnessProcess.Run(dir.Path, "noisy", "-runs=20", "-close_fd_mask=3");
        Assert.Equal(0, quiet.ExitCode);
        Assert.DoesNotContain("TARGET-STDOUT", quiet.Stdout);
        Assert.DoesNotContain("TARGET-STDERR", quiet.Stderr);
        Assert.Matches(@"#20\tDONE ", quiet.Stderr);
    }

    [Fact]
    public void MaxLenBoundsEveryCorpusInput()
    {
        using var dir = new ScratchDirectory();
        var run = HarnessProcess.Run(dir.Path, "paths", "-runs=3000", "-seed=1", "-max_len=3", "corpus");
        Assert.Equal(0, run.ExitCode);
        var sizes = Directory.GetFiles(dir["corpus"]).Select(f => new FileInfo(f).Length).ToList();
        Assert.NotEmpty(sizes);
        Assert.All(sizes, s => Assert.InRange(s, 0, 3));
        Assert.Contains(3L, sizes);
    }

    [Fact]
    public void DictionaryTokensAreUsed()
    {
        using var dir = new ScratchDirectory();
        string dict = dir.Write("maze.dict", "# the maze's path\npath=\"FUZ!\"\n");
        var run = HarnessProcess.Run(dir.Path, "maze", "-runs=500", "-seed=1", "-use_cmp=0", "-auto_dict=0", $"-dict={dict}");
        Assert.Equal(77, run.ExitCode);
        Assert.Contains("INFO: dictionary: 1 entries", run.Stderr);
        Assert.Contains("maze solved", run.Stderr);
    }

    [Fact]
    public void ExactArtifactPathIsHonoured()
    {
        using var dir = new ScratchDirectory();
        string path = dir["out/the-crash"];
        var run = HarnessProcess.Run(dir.Path, "magic", "-runs=1000", "-seed=1", $"-exact_artifact_path={path}");
        Assert.Equal(77, run.ExitCode);
        Assert.Equal(0xDEADBEEFu, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(path)));
        Assert.Empty(Directory.GetFiles(dir.Path, "crash-*"));
    }

    [Fact]
    public void MaxTotalTimeEndsAnEndlessCampaign()
    {
        using var dir = new ScratchDirectory();
        var run = HarnessProcess.Run(dir.Path, "paths", "-runs=-1", "-max_total_time=1", "-print_final_stats=1");
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"#\d+\tDONE ", run.Stderr);
        Assert.Contains("stat::number_of_executed_units:", run.Stderr);
    }
}
