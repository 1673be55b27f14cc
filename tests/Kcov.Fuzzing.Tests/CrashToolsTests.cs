using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// What ClusterFuzz does with a crash besides reproducing it, on the instrumented samples:
/// -cleanse_crash=1 (every byte that does not matter replaced, the crash kept), -minimize_crash=1
/// within -max_total_time, and merges that are resumed or done in two steps through libFuzzer's
/// control file (-merge_control_file).
/// </summary>
public class CrashToolsTests
{
    [Fact]
    public void CleanseReplacesTheBytesThatDoNotMatterAndKeepsTheCrash()
    {
        using var dir = new ScratchDirectory();
        string input = dir.Write("crash", "THRW-with-a-tail");
        string output = dir["cleansed"];
        var run = InstrumentedSamples.Run(dir.Path, "crashkinds", "-cleanse_crash=1", $"-exact_artifact_path={output}", input);
        Assert.True(run.ExitCode == 0, run.Stderr);
        // The command bytes stay; every other byte is libFuzzer's first filler, ' '.
        Assert.Equal("THRW            ", File.ReadAllText(output));
        Assert.Contains("INFO: CLEANSE: replaced 12 of 16 bytes, signature System.FormatException at Kcov.Samples.Targets.CrashKindsTarget.Run", run.Stderr);
        var again = InstrumentedSamples.Run(dir.Path, "crashkinds", output);
        Assert.Equal(77, again.ExitCode);
    }

    [Fact]
    public void CleanseKeepsACrashThatKillsTheExecutor()
    {
        using var dir = new ScratchDirectory();
        string input = dir.Write("crash", "SOVF!!");
        string output = dir["cleansed"];
        var run = InstrumentedSamples.Run(dir.Path, "crashkinds", "-cleanse_crash=1", "-close_fd_mask=2", $"-exact_artifact_path={output}", input);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("SOVF  ", File.ReadAllText(output));
    }

    [Fact]
    public void CleanseNeedsAnOutputPath()
    {
        using var dir = new ScratchDirectory();
        var run = InstrumentedSamples.Run(dir.Path, "crashkinds", "-cleanse_crash=1", dir.Write("crash", "THRW"));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("ERROR: -cleanse_crash=1 needs -exact_artifact_path=FILE for the cleansed input", run.Stderr.Trim());
    }

    [Fact]
    public void MinimizeStopsAtMaxTotalTimeWithTheBestInputSoFar()
    {
        using var dir = new ScratchDirectory();
        // A hang: every attempt takes -timeout, so only -max_total_time ends the minimization.
        string input = dir.Write("hang", "HANG" + new string('x', 200));
        string output = dir["minimized"];
        var run = InstrumentedSamples.Run(dir.Path, "crashkinds", "-minimize_crash=1", "-timeout=1", "-max_total_time=4",
            $"-exact_artifact_path={output}", input);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.StartsWith("HANG", File.ReadAllText(output));
        Assert.Contains("INFO: CRASH_MIN: signature: Timeout", run.Stderr);
    }

    [Fact]
    public void ATwoStepMergeReusesTheFirstStepsControlFile()
    {
        using var dir = new ScratchDirectory();
        // Each input gets one check further into the nested sample than the one before.
        string[] existing = ["XESTab", "NXSTab", "NEXTab", "NESXab"];
        string[] fresh = ["NEST\u0001a", "NEST\u0002\u002a\u0003\u0001\u0005\u0000", "NESXab"];
        for (int i = 0; i < existing.Length; i++)
            dir.Write($"existing/{i}", existing[i]);
        for (int i = 0; i < fresh.Length; i++)
            dir.Write($"new/{i}", fresh[i]);
        string control = dir["mcf"];

        // ClusterFuzz's two steps: the existing corpus alone, then (OUT emptied) with the new inputs.
        var first = InstrumentedSamples.Run(dir.Path, "nested", "-merge=1", $"-merge_control_file={control}", "out", "existing");
        Assert.True(first.ExitCode == 0, first.Stderr);
        var (files1, features1, edges1) = MergeOuter(first.Stderr);
        Assert.Equal(existing.Length, files1);
        Directory.Delete(dir["out"], recursive: true);
        Directory.CreateDirectory(dir["out"]);
        var second = InstrumentedSamples.Run(dir.Path, "nested", "-merge=1", $"-merge_control_file={control}", "out", "existing", "new");
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("MERGE-OUTER: starting merge from scratch, but reusing coverage information from the given control file", second.Stderr);
        // Only the two new inputs ran (the third is a copy of an existing one).
        Assert.Contains("MERGE-OUTER: 2 files, 0 in the initial corpus, 4 processed earlier", second.Stderr);
        var (files2, features2, edges2) = MergeOuter(second.Stderr);
        Assert.Equal(existing.Length + 2, files2);
        // ClusterFuzz's new_edges and new_features are the differences of the two steps.
        Assert.True(features2 > features1 && edges2 > edges1, second.Stderr);
        Assert.Equal(existing.Length + 2, Directory.GetFiles(dir["out"]).Length);
    }

    [Fact]
    public void AMergeGoesOnFromItsControlFileAndSkipsTheInputThatKilledIt()
    {
        using var dir = new ScratchDirectory();
        string a = dir.Write("in/a", "N"), b = dir.Write("in/b", "SOVF"), c = dir.Write("in/c", "NEST\u0002");
        string control = dir.Write("mcf", $"3\n0\n{a}\n{b}\n{c}\nSTARTED 0 1\nFT 0 7 8\nCOV 0 7\nSTARTED 1 4\n");
        // A merge killed while input 1 ran (no FT after its STARTED): the next one goes on after it.
        var run = InstrumentedSamples.Run(dir.Path, "nested", "-merge=1", $"-merge_control_file={control}", "out", "in");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("MERGE-OUTER: control file ok, 3 files total, first not processed file 2", run.Stderr);
        Assert.Contains($"MERGE-OUTER: '{b}' will be skipped as unlucky", run.Stderr);
        Assert.Matches(@"\nSTARTED 1 4\nSTARTED 2 5\nFT 2( \d+)+\nCOV 2( \d+)+\n$", File.ReadAllText(control));
        // Inputs a and c were copied; b, which the earlier merge stumbled on, was not.
        Assert.Equal(2, Directory.GetFiles(dir["out"]).Length);
    }

    /// <summary>
    /// An input that hangs or runs out of memory during a merge kills the executor: it is reported,
    /// written under -artifact_prefix, and the merge goes on with a new executor. The hang gets a short
    /// -timeout of its own; RSSX a generous one, so that it is an out-of-memory however busy the machine.
    /// </summary>
    [Theory]
    [InlineData("HANG", 2, "timeout-", "==ERROR: libFuzzer: timeout after 2 seconds")]
    [InlineData("RSSX", 60, "oom-", "==ERROR: libFuzzer: out-of-memory (used: ")]
    public void AMergeReportsAndSavesAnInputThatKillsTheExecutorAndGoesOn(string killer, int timeout, string artifact, string header)
    {
        using var dir = new ScratchDirectory();
        dir.Write("in/a", "ab");
        dir.Write("in/b", killer);
        dir.Write("in/c", "abcdef");
        Directory.CreateDirectory(dir["bad"]);
        var run = InstrumentedSamples.Run(dir.Path, "crashkinds", "-merge=1", $"-timeout={timeout}", "-rss_limit_mb=512", "-close_fd_mask=2",
            "-artifact_prefix=bad/", "out", "in");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains(header, run.Stderr);
        Assert.Equal(killer, File.ReadAllText(Assert.Single(Directory.GetFiles(dir["bad"], artifact + "*"))));
        // The inputs after it were run too: both others are merged, the killer is not.
        var (files, _, _) = MergeOuter(run.Stderr);
        var merged = Directory.GetFiles(dir["out"]).Select(File.ReadAllText).Order().ToList();
        Assert.Equal(["ab", "abcdef"], merged);
        Assert.Equal(2, files);
    }

    private static (int Files, int Features, int Edges) MergeOuter(string stderr)
    {
        var m = Regex.Match(stderr, @"(?m)^MERGE-OUTER: (\d+) new files with (\d+) new features added; (\d+) new coverage edges$");
        Assert.True(m.Success, stderr);
        return (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value));
    }
}
