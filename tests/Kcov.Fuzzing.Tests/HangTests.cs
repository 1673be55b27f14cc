using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// Hangs do not stall a campaign that goes on after them (-ignore_timeouts=1). The hangs here are
/// deterministic (inputs that loop forever), so the -timeout can be generous: no honest input has to
/// beat a short clock. Budgets are executions.
/// </summary>
public class HangTests
{
    private static long Stat(string stderr, string name)
    {
        var m = Regex.Match(stderr, $@"stat::{name}: (\d+)");
        Assert.True(m.Success, $"no stat::{name} in:\n{stderr}");
        return long.Parse(m.Groups[1].Value);
    }

    [Fact]
    public void TwoLoopsGiveTwoTimeoutArtifactsAndAThirdInputInAKnownLoopIsCutEarly()
    {
        using var dir = new ScratchDirectory();
        dir.Write("seeds/1-escape", "%1");
        dir.Write("seeds/2-entity", "&a");
        dir.Write("seeds/3-escape-again", "%2");
        var (exit, _, stderr, shmLeft) = InstrumentedSamples.RunPrivateShm(dir.Path, "twoloops", "-runs=3", "-seed=1", "-timeout=5", "-ignore_timeouts=1",
            "-artifact_prefix=art/", "-print_final_stats=1", "corpus", "seeds");
        Assert.True(exit == 70, stderr); // -timeout_exitcode
        var timeouts = Directory.GetFiles(dir["art"], "timeout-*").Select(File.ReadAllText).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["%1", "&a"], timeouts);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: timeout Timeout <- Kcov.Samples.Targets.TwoLoopsTarget.Escape (TwoLoopsTarget.cs:", stderr);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: timeout Timeout <- Kcov.Samples.Targets.TwoLoopsTarget.Entity (TwoLoopsTarget.cs:", stderr);
        Assert.Equal(3, Stat(stderr, "hangs"));
        Assert.Equal(1, Stat(stderr, "hangs_cut_early"));
        Assert.Equal(1, Stat(stderr, "repeated_findings"));
        Assert.Contains("INFO: repeated timeout: Timeout <- Kcov.Samples.Targets.TwoLoopsTarget.Escape", stderr);
        Assert.Equal(2, Regex.Matches(stderr, "INFO: executor 0 restarted after").Count);
        Assert.Empty(shmLeft);
    }

    [Fact]
    public void HintsThatRebuildAHangingInputNeverRunItAgainAndTheCampaignGoesOn()
    {
        // The escape sample's comparison hints rebuild '%' + digit from almost any input: the first
        // such input hangs for -timeout, the executor is restarted with the campaign's state, and no
        // input that killed an executor ever runs again.
        using var dir = new ScratchDirectory();
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "escape", "-runs=150", "-seed=1", "-timeout=10", "-ignore_timeouts=1",
            "-artifact_prefix=art/", "-print_final_stats=1", "corpus");
        Assert.True(exit == 70, stderr);
        Assert.Single(Directory.GetFiles(dir["art"], "timeout-*"));
        long hangs = Stat(stderr, "hangs");
        Assert.True(hangs >= 1, stderr);
        Assert.Equal(0, Stat(stderr, "killer_replays"));
        Assert.Equal(hangs - 1, Stat(stderr, "repeated_findings"));
        Assert.Equal(150, Stat(stderr, "number_of_executed_units"));
        Assert.Matches(@"#150\tDONE ", stderr);
    }

    [Fact]
    public void HangsInAHangProneTargetAreParkedAndTheCampaignGoesOnToTheDeeperBugWithoutARestart()
    {
        // The escape sample: '%' + digit loops forever near the entry, a KREC record with a valid
        // checksum throws deeper. The hints of "a%b" rebuild "a%0", which hangs (-timeout, the first
        // hang); the KREC seed's hints then give it its checksum. Each hang's thread is parked in its
        // loop and a new thread goes on: no executor restart, no input run again, and the hangs that
        // mutations keep making after that are cut early and parked too.
        using var dir = new ScratchDirectory();
        dir.Write("seeds/1-escape", "a%b");
        dir.Write("seeds/2-record", "#KREC\u0004\u0000abcX");
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "escape", "-runs=3000", "-seed=1", "-timeout=3", "-ignore_timeouts=1",
            "-ignore_crashes=1", "-artifact_prefix=art/", "-print_final_stats=1", "corpus", "seeds");
        Assert.True(exit == 77, stderr);
        Assert.Equal("#KREC\u0004\u0000abc&", File.ReadAllText(Directory.GetFiles(dir["art"], "crash-*").Single()));
        Assert.Contains("planted bug: a KREC record with a valid checksum", stderr);
        Assert.Matches(@"NOTE: the executor had parked the threads of \d+ hanging input\(s\) before this one", stderr);
        Assert.Single(Directory.GetFiles(dir["art"], "timeout-*"));
        long hangs = Stat(stderr, "hangs");
        Assert.True(hangs >= 2, stderr);
        Assert.Equal(hangs, Stat(stderr, "hangs_parked"));
        Assert.Equal(hangs - 1, Stat(stderr, "hangs_cut_early"));
        Assert.Equal(0, Stat(stderr, "executor_restarts"));
        Assert.Equal(0, Stat(stderr, "killer_replays"));
        Assert.Equal(3000, Stat(stderr, "number_of_executed_units"));
        Assert.Contains("INFO: executor 0 goes on without a restart: the thread of the hanging input is parked (1 parked so far)", stderr);
        Assert.Contains("(cut early, thread parked, no restart)", stderr);
        Assert.DoesNotContain("restarted after", stderr);
    }

    [Fact]
    public void AnInputWaitingForALockAParkedThreadHoldsIsTriedAgainInANewExecutorAndNotReported()
    {
        // "L0" (rebuilt by the hints of "Lx") spins inside a lock and is parked there, keeping the lock;
        // "W..." inputs then wait for it outside instrumented code. Such a wait cannot be parked: the
        // executor is ended, and the input is run first thing in a new one, where it returns at once.
        using var dir = new ScratchDirectory();
        dir.Write("seeds/1", "Lx");
        dir.Write("seeds/2", "Wa");
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "lockedloop", "-runs=300", "-seed=1", "-timeout=2", "-ignore_timeouts=1",
            "-artifact_prefix=art/", "-print_final_stats=1", "corpus", "seeds");
        Assert.True(exit == 70, stderr);
        Assert.Equal("L0", File.ReadAllText(Directory.GetFiles(dir["art"], "timeout-*").Single()));
        Assert.Contains("INFO: an input hung outside instrumented code in an executor with 1 parked thread(s)", stderr);
        Assert.True(Stat(stderr, "executor_restarts") >= 1, stderr);
        Assert.Equal(Stat(stderr, "hangs"), Stat(stderr, "hangs_parked"));
        Assert.Equal(300, Stat(stderr, "number_of_executed_units"));
    }

    [Fact]
    public void ALongHintSearchIsNotTimedAsTheInputsRun()
    {
        // 40,000 distinct comparisons per run, a 16 KB input: its hints pass looks up 40,000 values in
        // the input. That bookkeeping runs with the slot idle; the input itself runs in about a millisecond.
        using var dir = new ScratchDirectory();
        var seed = new byte[16 << 10];
        new Random(5).NextBytes(seed);
        Directory.CreateDirectory(dir["seeds"]);
        File.WriteAllBytes(Path.Combine(dir["seeds"], "big"), seed);
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "manycmp", "-runs=30", "-seed=1", "-timeout=5",
            "-artifact_prefix=art/", "-print_final_stats=1", "corpus", "seeds");
        Assert.True(exit == 0, stderr);
        Assert.Empty(Directory.Exists(dir["art"]) ? Directory.GetFiles(dir["art"]) : []);
        Assert.Equal(0, Stat(stderr, "hangs"));
    }
}
