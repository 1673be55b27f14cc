using System.Text.RegularExpressions;
using Kcov.Fuzzing.TestHarness;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// The supervisor treats everything an executor writes as hostile input. An executor double
/// (<see cref="HostileExecutor"/>) writes random bytes into its socket or into the control block,
/// or offers a file the test owns (the victim) as its kcov area. What must hold: the supervisor
/// ends with one line saying what the executor did (no stack trace, no hang), kills it, never
/// touches the victim, and leaves nothing in /dev/shm.
/// </summary>
public class HostileExecutorTests
{
    [Theory]
    [InlineData("socket", 1)]
    [InlineData("socket", 2)]
    [InlineData("socket", 3)]
    [InlineData("hello", 1)]
    public void AnExecutorThatWritesGarbageOnItsSocketIsKilledAndReported(string mode, int seed)
    {
        using var dir = new ScratchDirectory();
        string victim = dir.Write("victim", "precious");
        var (exit, _, stderr, shmLeft) = Run(dir, mode, seed, victim);

        Assert.Equal(1, exit);
        string last = stderr.Trim().Split('\n').Last();
        Assert.Matches(@"^ERROR: the executor \(pid \d+\) was killed: its? ", last);
        Assert.DoesNotContain("   at ", stderr);
        AssertUntouched(victim);
        Assert.Empty(shmLeft);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AnExecutorThatScribblesOnTheControlBlockIsKilledReportedAndNotFollowed(int seed)
    {
        using var dir = new ScratchDirectory();
        string victim = dir.Write("victim", "precious");
        var (exit, _, stderr, shmLeft) = Run(dir, "block", seed, victim);

        // Each restarted double scribbles again: reported every time, then the campaign gives up in one line.
        Assert.Equal(1, exit);
        Assert.True(Regex.Matches(stderr, @"INFO: executor \d+ died between inputs: deadly signal \(the executor was killed for writing garbage: ").Count >= 1, stderr);
        Assert.Matches(@"ERROR: the executor keeps dying outside of any input \(deadly signal \(the executor was killed for writing garbage: [^\n]+\)\)", stderr);
        Assert.DoesNotContain("   at ", stderr);
        AssertUntouched(victim);
        Assert.Empty(shmLeft);
    }

    /// <summary>
    /// A real executor whose target overwrites the control block's header on one input: that input is
    /// the finding (the executor sees the header changed when the input returns, and repairs it), and
    /// the campaign goes on to its end.
    /// </summary>
    [Fact]
    public void ATargetThatOverwritesTheControlBlockIsReportedWithItsInputAndTheCampaignGoesOn()
    {
        using var dir = new ScratchDirectory();
        dir.Write("seeds/fine", "fine");
        dir.Write("seeds/scribble", "SCRB");
        var (exit, _, stderr, shmLeft) = HarnessProcess.RunPrivateShm(dir.Path, HarnessProcess.Dll,
            ["scribble", "-runs=3000", "-seed=1", "-ignore_crashes=1", "-artifact_prefix=art/", "corpus", "seeds"]);

        Assert.Equal(77, exit); // -error_exitcode: a crash was found
        Assert.Contains("==ERROR: libFuzzer: memory corruption in the .NET target: the input made it overwrite the fuzzer's control block (the control block's header says ", stderr);
        Assert.Contains("\n   assertion failed: the fuzzer's control block is as the fuzzer wrote it\n", stderr);
        Assert.Equal("SCRB", File.ReadAllText(Assert.Single(Directory.GetFiles(dir["art"], "crash-*"))));
        Assert.Matches(@"#3000\tDONE ", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Empty(shmLeft);
    }

    private static (int Exit, string Stdout, string Stderr, string[] ShmLeft) Run(ScratchDirectory dir, string mode, int seed, string victim) =>
        HarnessProcess.RunPrivateShm(dir.Path, HarnessProcess.Dll, ["hostile", "-runs=1000", "-kcov_area_words=4096", "corpus"],
            new Dictionary<string, string> { [HostileExecutor.ModeVariable] = $"{mode}:{seed}:{victim}" });

    private static void AssertUntouched(string victim)
    {
        Assert.True(File.Exists(victim), "the supervisor removed a file the executor named");
        Assert.Equal("precious", File.ReadAllText(victim));
    }
}
