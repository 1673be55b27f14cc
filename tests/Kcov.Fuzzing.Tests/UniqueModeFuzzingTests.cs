using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// -kcov_unique: the executor collects blocks in kcov's unique mode (KCOV_UNIQUE_ENABLE). The layout
/// tests use a target instrumented by hand with unique-mode bits of its own (<see cref="Trace.RegisterModule"/>);
/// the campaigns run the really instrumented samples through the harness. Budgets are executions.
/// </summary>
public class UniqueModeFuzzingTests
{
    /// <summary>Three sites of a module of our own: an entry block, a loop body, a branch in the loop.</summary>
    private static readonly uint s_bits = Trace.RegisterModule(3);

    private const ulong Entry = 0x7100, Body = 0x7200, Branch = 0x7300;

    private static void LoopTarget(ReadOnlySpan<byte> input)
    {
        byte frame = 0;
        Trace.Pc(ref frame, Entry, s_bits);
        foreach (byte b in input)
        {
            Trace.Pc(ref frame, Body, s_bits + 1);
            if (b == (byte)'x')
                Trace.Pc(ref frame, Branch, s_bits + 2);
        }
    }

    private static bool BitSet(ReadOnlySpan<ulong> bitmap, uint bit) => (bitmap[(int)(bit >> 6)] & (1UL << (int)(bit & 63))) != 0;

    [Fact]
    public void TheRunnerSplitsTheAreaIntoABitmapAndATraceOfFirstHits()
    {
        uint first = s_bits; // our module registers before the runner sizes its bitmap
        using var runner = new TargetRunner(FuzzTarget.From(LoopTarget), 1 << 12, unique: true);
        Assert.Null(runner.Run("axbxcx"u8));
        Assert.True(runner.Unique);
        int offset = runner.TraceOffset;
        // The bitmap covers every site registered so far (ours included), in whole words.
        Assert.True(offset * 64L >= first + 3, $"bitmap of {offset} words for bit {first + 2}");
        // Each block once, in first-hit order, though the loop body ran six times.
        Assert.Equal([3UL, Entry, Body, Branch], runner.Area[..4].ToArray());
        Assert.Equal(runner.Area.ToArray(), runner.WholeArea[offset..].ToArray());
        var bitmap = runner.WholeArea[..offset];
        Assert.True(BitSet(bitmap, s_bits) && BitSet(bitmap, s_bits + 1) && BitSet(bitmap, s_bits + 2));

        // The bitmap and the count are reset before each input: the next one starts from nothing.
        Assert.Null(runner.Run("ab"u8));
        Assert.Equal([2UL, Entry, Body], runner.Area[..3].ToArray());
        Assert.False(BitSet(runner.WholeArea[..offset], s_bits + 2));
    }

    [Fact]
    public void TracePcWritesEveryBlockEachTimeItRuns()
    {
        // The control: the same target and input without unique mode.
        using var runner = new TargetRunner(FuzzTarget.From(LoopTarget), 1 << 12);
        Assert.Null(runner.Run("axbxcx"u8));
        Assert.False(runner.Unique);
        Assert.Equal(0, runner.TraceOffset);
        Assert.Equal(10UL, runner.Area[0]);
    }

    [Fact]
    public void SitesOfAModuleThatRegistersDuringAnInputAreWrittenEveryTimeThenTheBitmapGrows()
    {
        uint? lastBit = null;
        int before = 0;
        void Target(ReadOnlySpan<byte> input)
        {
            byte frame = 0;
            // A module's first probe registers it (its type initializer): more sites than the bitmap has room for.
            lastBit ??= Trace.RegisterModule((uint)(before * 64 + 64)) + (uint)(before * 64 + 63);
            for (int i = 0; i < input.Length; i++)
                Trace.Pc(ref frame, 0x7400, lastBit.Value);
        }
        using var runner = new TargetRunner(FuzzTarget.From(Target), 1 << 12, unique: true);
        before = runner.TraceOffset;
        Assert.True(before > 0);
        // The first input registers the module: its site is past the bitmap, written every time (kcov's rule)...
        Assert.Null(runner.Run("aaaa"u8));
        Assert.Equal(before, runner.TraceOffset);
        Assert.Equal([4UL, 0x7400, 0x7400, 0x7400, 0x7400], runner.Area[..5].ToArray());
        // ...and the bitmap grows before the next input, after which it is written once.
        Assert.True(runner.PrepareRun() > before);
        Assert.True(runner.TraceOffset * 64L > lastBit);
        Assert.Null(runner.Run("aaaa"u8));
        Assert.Equal([1UL, 0x7400], runner.Area[..2].ToArray());
    }

    [Fact]
    public void HintsAndValueProfileReadTheirComparisonsAndTheCrashGetsItsTracePcSite()
    {
        // The trace-cmp runs switch the device away from unique mode and back: their records are read
        // from the start of the area, the blocks after the bitmap; the crash's site from a trace-pc run.
        var options = new FuzzerOptions { Unique = 1, UseValueProfile = true, Runs = 1000 };
        var reporter = new RecordingReporter();
        using var runner = new TargetRunner(FuzzTarget.From(TestHarness.MagicHandTarget.Run), 1 << 16, unique: true);
        var loop = new FuzzLoop(options, runner, new ExecutionGate(null, 0, 1000), reporter, 1, 64, []);
        if (loop.RunSeeds([]))
            loop.Fuzz();
        Assert.True(runner.Unique);
        var crash = Assert.Single(reporter.Crashes);
        Assert.Equal(0xDEADBEEFu, BinaryPrimitives.ReadUInt32LittleEndian(crash.Input));
        // The block that throws; a unique run gives no site (the runner does not guess one from a unique trace).
        Assert.NotNull(crash.Report.Site);
        Assert.StartsWith("0x0000000000000104", crash.Report.Site);
    }

    [Fact]
    public void AUniqueModeCampaignFindsTheMagicNumberWithTheSameSignatureAsTracePc()
    {
        using var dir = new ScratchDirectory();
        var pc = InstrumentedSamples.Run(dir.Path, "magic", "-runs=1000", "-seed=1", "-artifact_prefix=pc-", "corpus-pc");
        var unique = InstrumentedSamples.Run(dir.Path, "magic", "-runs=1000", "-seed=1", "-kcov_unique=1", "-artifact_prefix=unique-", "corpus-unique");
        Assert.True(unique.ExitCode == 77, unique.Stderr);
        var crash = Assert.Single(Directory.GetFiles(dir.Path, "unique-crash-*"));
        Assert.Equal(0x4B434F56u, BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(crash)));
        // The throw site comes from one more trace-pc run: the report and its signature are trace-pc's.
        string Lines(string stderr, string prefix) => string.Join("\n", stderr.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal)));
        Assert.Contains("Thrown in block (last block of the kcov trace): 0x", unique.Stderr);
        Assert.Equal(Lines(pc.Stderr, "Thrown in block"), Lines(unique.Stderr, "Thrown in block"));
        Assert.Equal(Lines(pc.Stderr, "SUMMARY:"), Lines(unique.Stderr, "SUMMARY:"));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public void AUniqueModeCampaignFindsTheNestedBugWithinItsBudget(string flag)
    {
        // nested: a magic, a count and a nested list: hints and new blocks, no hit counts needed.
        using var dir = new ScratchDirectory();
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "nested", "-runs=20000", "-seed=1", $"-kcov_unique={flag}",
            "-print_final_stats=1", "corpus");
        Assert.True(exit == 77, stderr);
        Assert.Single(Directory.GetFiles(dir.Path, "crash-*"));
        Assert.Matches(@"stat::kcov_area_overflows: 0\b", stderr);
    }

    [Fact]
    public void AHangInUniqueModeListsTheLastBlocksReachedForTheFirstTime()
    {
        using var dir = new ScratchDirectory();
        dir.Write("seeds/escape", "%1");
        var (exit, _, stderr, shmLeft) = InstrumentedSamples.RunPrivateShm(dir.Path, "twoloops", "-runs=1", "-seed=1", "-timeout=2",
            "-kcov_unique=1", "-artifact_prefix=art/", "corpus", "seeds");
        Assert.True(exit == 70, stderr);
        Assert.Single(Directory.GetFiles(dir["art"], "timeout-*"));
        Assert.Contains("Last blocks reached for the first time (kcov unique mode", stderr);
        Assert.Matches(@"#\d+ 0x[0-9a-f]{16} in Kcov\.Samples\.Targets\.TwoLoopsTarget\.", stderr);
        Assert.Empty(shmLeft);
    }

    [Fact]
    public void AnAsyncTargetRefusesUniqueModeInOneLine()
    {
        using var dir = new ScratchDirectory();
        var run = HarnessProcess.Run(dir.Path, "asyncmagic", "-runs=10", "-kcov_unique=1");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("ERROR: -kcov_unique=1 needs a synchronous target: an async target is collected through remote sections, which cannot use kcov's unique mode; drop the flag",
            run.Stderr.Trim());
    }

    [Fact]
    public void TheFlagTakesZeroOneOrTwo()
    {
        Assert.Equal(2, FuzzerFlags.Parse(["-kcov_unique=2"], out _).Unique);
        var e = Assert.Throws<FuzzerUsageException>(() => FuzzerFlags.Parse(["-kcov_unique=3"], out _));
        Assert.Equal("flag '-kcov_unique=3': 3 is out of range; use 0 to 2", e.Message);
    }

    [Fact]
    public void FeaturesInUniqueModeAreTheBlocksAndTheFirstHitPairsOrTheBlocksOnly()
    {
        _ = s_bits; // our module registers before the runner sizes its bitmap
        using var runner = new TargetRunner(FuzzTarget.From(LoopTarget), 1 << 12, unique: true);
        Assert.Null(runner.Run("axbxcx"u8));
        var signal = new Feedback.Signal();
        var withPairs = signal.Collect(runner.Area).ToArray();
        Assert.Equal(3, withPairs.Count(Feedback.Signal.IsPcFeature));
        // Three pairs (start-Entry, Entry-Body, Body-Branch), each once: the lowest hit-count bucket.
        var pairs = withPairs.Where(Feedback.Signal.IsEdgeFeature).ToList();
        Assert.Equal(3, pairs.Count);
        Assert.All(pairs, f => Assert.Equal(0u, f & 7));
        var blocksOnly = signal.Collect(runner.Area, edges: false).ToArray();
        Assert.Equal(withPairs.Where(Feedback.Signal.IsPcFeature).Order(), blocksOnly.Order());
    }
}
