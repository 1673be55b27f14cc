using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// libFuzzer's -reduce_inputs=1: the corpus directory holds the corpus. An input the campaign saved
/// leaves it once smaller inputs own all its features; seeds the user gave never do.
/// </summary>
public class ReduceInputsTests
{
    [Fact]
    public void TheDirectoryKeepsTheCampaignsFeaturesAndEverySeed()
    {
        using var dir = new ScratchDirectory();
        // Seeds of -max_len bytes (so that the merge below reads what the campaign ran): smaller inputs
        // will own every feature they have.
        var seeds = new Dictionary<string, string>
        {
            ["seeds/a"] = new string('a', 16), ["seeds/mixed"] = "the quick brown ",
        };
        foreach (var (path, text) in seeds)
            dir.Write(path, text);
        var run = HarnessProcess.Run(dir.Path, "paths", "-runs=4000", "-seed=1", "-max_len=16", "corpus", "seeds");
        Assert.True(run.ExitCode == 0, run.Stderr);

        foreach (var (path, text) in seeds)
            Assert.Equal(text, File.ReadAllText(dir[path]));
        int saved = Regex.Matches(run.Stderr, @"^#\d+\t(NEW|REDUCE) ", RegexOptions.Multiline).Count;
        int files = Directory.GetFiles(dir["corpus"]).Length;
        Assert.True(files < saved, $"{files} files for {saved} saved inputs: nothing was removed");
        int features = int.Parse(Regex.Match(run.Stderr, @"\tDONE +cov: \d+ ft: (\d+) ").Groups[1].Value);

        // What is left has the campaign's whole signal: a merge of it finds every feature again.
        var merge = HarnessProcess.Run(dir.Path, "paths", "-merge=1", "merged", "corpus", "seeds");
        Assert.True(merge.ExitCode == 0, merge.Stderr);
        Assert.Matches($@"MERGE-OUTER: \d+ new files with {features} new features added", merge.Stderr);
    }

    [Fact]
    public void ReduceInputsZeroKeepsEveryFileItSaved()
    {
        using var dir = new ScratchDirectory();
        var run = HarnessProcess.Run(dir.Path, "paths", "-runs=2000", "-seed=1", "-max_len=16", "-reduce_inputs=0", "corpus");
        Assert.True(run.ExitCode == 0, run.Stderr);
        int saved = Regex.Matches(run.Stderr, @"^#\d+\t(NEW|REDUCE) ", RegexOptions.Multiline).Count;
        Assert.Equal(saved, Directory.GetFiles(dir["corpus"]).Length);
    }
}
