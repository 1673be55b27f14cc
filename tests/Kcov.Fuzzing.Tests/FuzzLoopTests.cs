using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;
using Kcov.Fuzzing.TestHarness;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// The hot loop in this process, on hand-instrumented targets (explicit Kcov.Trace calls):
/// a test of the engine alone, independent of the IL instrumenter. Budgets are executions.
/// </summary>
public class FuzzLoopTests
{
    private static RecordingReporter Fuzz(Action<ReadOnlySpan<byte>> target, long runs, int seed, bool useCmp, out FuzzLoop loop, int maxLen = 64,
        bool ignoreCrashes = false)
    {
        var options = new FuzzerOptions { UseCmp = useCmp, Runs = runs, IgnoreCrashes = ignoreCrashes };
        var reporter = new RecordingReporter();
        using var runner = new TargetRunner(FuzzTarget.From(target), 1 << 16);
        loop = new FuzzLoop(options, runner, new ExecutionGate(null, 0, runs), reporter, seed, maxLen, []);
        if (loop.RunSeeds([]))
            loop.Fuzz();
        return reporter;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void MagicNumberIsFoundWithHintsWithin1000Execs(int seed)
    {
        var reporter = Fuzz(MagicHandTarget.Run, 1000, seed, useCmp: true, out var loop);
        var crash = Assert.Single(reporter.Crashes);
        Assert.Contains("MagicHandTarget.Run", crash.Report.Signature);
        Assert.Equal(0xDEADBEEFu, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(crash.Input));
        // The loop stopped at the crash.
        Assert.Equal(crash.AtExec, loop.Execs);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void MagicNumberIsNotFoundWithoutHintsInTheSameBudget(int seed)
    {
        // The control: the same budget with -use_cmp=0 (2^-32 per random guess).
        var reporter = Fuzz(MagicHandTarget.Run, 1000, seed, useCmp: false, out _);
        Assert.Empty(reporter.Crashes);
    }

    [Fact]
    public void CoverageAloneLeadsThroughAByteByByteMaze()
    {
        // No hints, no dictionary: each matching byte is a new block, so the corpus climbs one
        // byte at a time. (-max_len=8 keeps the length control from wandering off.)
        var reporter = Fuzz(MazeHandTarget.Run, 200_000, 1, useCmp: false, out _, maxLen: 8);
        var crash = Assert.Single(reporter.Crashes);
        Assert.StartsWith("FUZ!", System.Text.Encoding.ASCII.GetString(crash.Input));
        Assert.True(reporter.NewInputs.Count >= 4);
    }

    [Fact]
    public void AnAreaThatFillsUpIsCountedAsOverflow()
    {
        // 16 words: any input of 15 bytes or more runs more blocks than the area holds.
        var options = new FuzzerOptions { UseCmp = false };
        using var runner = new TargetRunner(FuzzTarget.From(ManyPathsHandTarget.Run), 16);
        var loop = new FuzzLoop(options, runner, new ExecutionGate(null, 0, 2000), new RecordingReporter(), 1, 64, []);
        loop.RunSeeds([new byte[40], new byte[3]]);
        Assert.Equal(1, loop.Stats.Overflows);
        loop.Fuzz();
        Assert.True(loop.Stats.Overflows > 1);
    }

    [Fact]
    public void SameSeedSameCampaign()
    {
        var a = Fuzz(MazeHandTarget.Run, 5000, 9, useCmp: true, out _);
        var b = Fuzz(MazeHandTarget.Run, 5000, 9, useCmp: true, out _);
        Assert.Equal(a.NewInputs.Select(n => Convert.ToHexString(n.Input)), b.NewInputs.Select(n => Convert.ToHexString(n.Input)));
    }

    [Fact]
    public void TheLoopStopsAtItsFirstCrash()
    {
        var reporter = Fuzz(MagicHandTarget.Run, 3000, 1, useCmp: true, out var loop);
        var crash = Assert.Single(reporter.Crashes);
        Assert.Equal(crash.AtExec, loop.Execs);
    }

    [Fact]
    public void WithIgnoreCrashesACrashIsReportedOnceAndFuzzingGoesOnToTheBudget()
    {
        var reporter = Fuzz(MagicHandTarget.Run, 3000, 1, useCmp: true, out var loop, ignoreCrashes: true);
        Assert.Single(reporter.Crashes);
        Assert.Equal(3000, loop.Execs);
    }
}
