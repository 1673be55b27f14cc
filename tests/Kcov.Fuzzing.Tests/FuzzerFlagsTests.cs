using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Tests;

public class FuzzerFlagsTests
{
    [Fact]
    public void ParsesLibFuzzerFlagsAndPositionals()
    {
        var o = FuzzerFlags.Parse(["-runs=100", "-max_len=64", "-seed=7", "-use_cmp=0", "-artifact_prefix=out/", "corpus", "-timeout=3", "file"], out var warnings);
        Assert.Empty(warnings);
        Assert.Equal(100, o.Runs);
        Assert.Equal(64, o.MaxLen);
        Assert.Equal(7u, o.Seed);
        Assert.False(o.UseCmp);
        Assert.Equal("out/", o.ArtifactPrefix);
        Assert.Equal(3, o.TimeoutSeconds);
        Assert.Equal(["corpus", "file"], o.Positional);
    }

    [Fact]
    public void UnknownFlagIsAWarningNotAnError()
    {
        var o = FuzzerFlags.Parse(["-no_such_flag=1", "-runs=5"], out var warnings);
        Assert.Equal(5, o.Runs);
        var warning = Assert.Single(warnings);
        Assert.Contains("unrecognized flag '-no_such_flag=1'", warning);
    }

    [Theory]
    [InlineData("-runs=abc", "'abc' is not an integer")]
    [InlineData("-close_fd_mask=9", "out of range")]
    [InlineData("-runs", "needs a value")]
    public void BadValueIsOneClearError(string arg, string expected)
    {
        var e = Assert.Throws<FuzzerUsageException>(() => FuzzerFlags.Parse([arg], out _));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void HelpListsEveryFlagOfTheTable()
    {
        string help = FuzzerFlags.Help("harness");
        foreach (var flag in FuzzerFlags.All)
            Assert.Contains($" {flag.Name} ", help.Replace('\t', ' ').Replace('+', ' '));
    }

    [Fact]
    public void ExecutorCountFollowsWorkersThenJobs()
    {
        Assert.Equal(3, FuzzerFlags.Parse(["-workers=3", "-jobs=8"], out _).ExecutorCount);
        Assert.Equal(1, FuzzerFlags.Parse([], out _).ExecutorCount);
    }
}
