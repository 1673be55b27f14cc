using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// The harness as a user runs it: a supervisor process that starts executors, on the really
/// instrumented samples (crash kinds, reproduce, merge, minimize) and on hand-instrumented test
/// targets where the test is about the process model alone. Every campaign is bounded by -runs.
/// </summary>
public class SupervisorTests
{
    private static string Sha1(byte[] data) => Convert.ToHexStringLower(SHA1.HashData(data));

    [Fact]
    public void EachCrashKindYieldsItsArtifactAndTheCampaignRunsToTheEnd()
    {
        using var dir = new ScratchDirectory();
        foreach (var kind in new[] { "THRW", "THRD", "SOVF", "FAIL", "OOMX", "RSSX", "fine" })
            dir.Write($"seeds/{kind}", kind);
        // No hang here (see the next test): with a generous -timeout, RSSX crosses -rss_limit_mb, and a
        // stack overflow finishes printing its stack, long before either could count as a hang,
        // however busy the machine.
        var (exit, _, stderr, shmLeft) = InstrumentedSamples.RunPrivateShm(dir.Path, "crashkinds", "-runs=2000", "-seed=1", "-timeout=120",
            "-rss_limit_mb=512", "-artifact_prefix=art/", "-print_final_stats=1", "-auto_dict=0", "-use_call_hooks=0",
            "-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1", "corpus", "seeds");

        Assert.Equal(77, exit); // -error_exitcode: a crash was found
        var artifacts = Directory.GetFiles(dir["art"]).ToDictionary(f => File.ReadAllText(f), Path.GetFileName);
        Assert.True(artifacts.Count == 6, $"artifacts: {string.Join(", ", artifacts.Keys)}\n{stderr}");
        Assert.Equal($"crash-{Sha1("THRW"u8.ToArray())}", artifacts["THRW"]);
        Assert.StartsWith("crash-", artifacts["SOVF"]);
        Assert.StartsWith("crash-", artifacts["THRD"]);
        Assert.StartsWith("crash-", artifacts["FAIL"]);
        Assert.StartsWith("oom-", artifacts["OOMX"]);
        Assert.StartsWith("oom-", artifacts["RSSX"]);
        // Each kind's first line, as ClusterFuzz reads it (docs/clusterfuzz.md).
        Assert.Contains("\n==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target: System.FormatException: planted exception\n", stderr);
        Assert.Contains("\n==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target, unhandled on a thread of its own: System.ApplicationException: planted exception on another thread\n", stderr);
        Assert.Contains("\n==ERROR: libFuzzer: stack overflow in the .NET target (ExceptionCode: 0x800703E9 (Stack overflow)); the runtime ended the process\n", stderr);
        Assert.Contains("\n==ERROR: libFuzzer: deadly signal (Environment.FailFast in the .NET target: planted FailFast; the runtime aborted the process)\n", stderr);
        Assert.Contains("\n==ERROR: libFuzzer: out-of-memory (System.OutOfMemoryException in the .NET target: ", stderr);
        Assert.Matches(@"\n==ERROR: libFuzzer: out-of-memory \(used: \d+Mb; exceeds: 512Mb; the executor's RSS, read from /proc\)\n", stderr);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash StackOverflow <- Kcov.Samples.Targets.CrashKindsTarget.Recurse", stderr);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash FailFast <- Kcov.Samples.Targets.CrashKindsTarget.Run", stderr);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash System.ApplicationException <- Kcov.Samples.Targets.CrashKindsTarget.Run", stderr);
        // The campaign went on to -runs after four executor deaths (no dictionary, no call-site hooks: the
        // planted keywords are string literals of the harness, which -auto_dict=1 and the hooks would keep finding).
        Assert.Matches(@"#2000\tDONE ", stderr);
        Assert.Contains("stat::number_of_executed_units: 2000", stderr);
        Assert.Contains("stat::executor_restarts: 4", stderr);
        // Executors died in every way the target can kill them: nothing of theirs or the supervisor's is left in /dev/shm.
        Assert.Empty(shmLeft);
    }

    [Fact]
    public void AHangInACampaignIsATimeoutWithTheBlocksItSpinsIn()
    {
        using var dir = new ScratchDirectory();
        dir.Write("seeds/HANG", "HANG");
        var (exit, _, stderr, shmLeft) = InstrumentedSamples.RunPrivateShm(dir.Path, "crashkinds", "-runs=2000", "-seed=1", "-timeout=2",
            "-artifact_prefix=art/", "-auto_dict=0", "-use_call_hooks=0", "corpus", "seeds");
        Assert.Equal(70, exit); // -timeout_exitcode
        Assert.StartsWith("timeout-", Path.GetFileName(Assert.Single(Directory.GetFiles(dir["art"]))));
        // A hang has no stack; the kcov area of the killed executor says where it spun, with source lines.
        var hang = stderr[stderr.IndexOf("==ERROR: libFuzzer: timeout", StringComparison.Ordinal)..];
        Assert.Matches(@"^==ERROR: libFuzzer: timeout after 2 seconds \(the input ran longer than -timeout=2\)\nLast blocks run \(kcov area, newest first\):\n    #0 0x[0-9a-f]{16} in Kcov\.Samples\.Targets\.CrashKindsTarget\.Run \S*CrashKindsTarget\.cs:\d+", hang);
        Assert.Empty(shmLeft);
    }

    [Fact]
    public void ReproduceModePrintsTheCampaignsReportAndFails()
    {
        using var dir = new ScratchDirectory();
        var campaign = InstrumentedSamples.Run(dir.Path, "nested", "-runs=20000", "-seed=1");
        Assert.Equal(77, campaign.ExitCode);
        string artifact = Assert.Single(Directory.GetFiles(dir.Path, "crash-*"));
        string campaignReport = ReportOf(campaign.Stderr);

        var repro = InstrumentedSamples.Run(dir.Path, "nested", artifact);
        Assert.Equal(77, repro.ExitCode);
        Assert.Equal(campaignReport, ReportOf(repro.Stderr));
        Assert.Contains("NestedTarget.cs:line", campaignReport);

        var fine = InstrumentedSamples.Run(dir.Path, "nested", dir.Write("fine", "NEST\u0002ok"));
        Assert.Equal(0, fine.ExitCode);
    }

    [Fact]
    public void AnAsyncHarnessFindsItsBugThroughRemoteSections()
    {
        using var dir = new ScratchDirectory();
        var run = HarnessProcess.Run(dir.Path, "asyncmagic", "-runs=1500", "-seed=1", "corpus");
        Assert.Equal(77, run.ExitCode);
        string artifact = Assert.Single(Directory.GetFiles(dir.Path, "crash-*"));
        Assert.Equal(0xCAFEF00Du, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(artifact)));
        Assert.Contains("System.IO.InvalidDataException: async magic number reached", run.Stderr);
        Assert.Contains("AsyncMagicHandTarget.cs:line", run.Stderr);
    }

    [Fact]
    public void MergeKeepsASubsetWithTheSameSignal()
    {
        using var dir = new ScratchDirectory();
        string[] inputs =
        [
            "", "N", "NE", "NES", "NEST", "NEST\u0001", "NEST\u0002", "NEST\u0002ab", "NEST\u0002cd", "NEST\u0002abcd",
            "NEST\u0002\u002a\u0003\u0001\u0005\u0000", "NEST\u0002\u002a\u0003\u0001\u0007\u0000", "XEST\u0002",
            "NEST\u0002\u002a\u0001\u0005", // count 5 in a 1-byte list: crashes the target
        ];
        for (int i = 0; i < inputs.Length; i++)
            dir.Write($"in/{i}", inputs[i]);
        var merge = InstrumentedSamples.Run(dir.Path, "nested", "-merge=1", "out", "in");
        Assert.Equal(0, merge.ExitCode);
        var kept = Directory.GetFiles(dir["out"]).Select(File.ReadAllText).ToList();
        Assert.All(kept, k => Assert.Contains(k, inputs));
        Assert.True(kept.Count < inputs.Length - 1, $"kept {kept.Count} of {inputs.Length}");
        // A crashing input brings no signal to a merged corpus.
        Assert.DoesNotContain(inputs[^1], kept);

        // The crashing input was reported and saved, as libFuzzer's merge does.
        Assert.Contains("==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target: System.IndexOutOfRangeException", merge.Stderr);
        Assert.Equal(inputs[^1], File.ReadAllText(Assert.Single(Directory.GetFiles(dir.Path, "crash-*"))));

        // Same total signal: merging only the kept files into an empty corpus adds the same features.
        var again = InstrumentedSamples.Run(dir.Path, "nested", "-merge=1", "out2", "out");
        Assert.Equal(NewFeatures(merge.Stderr), NewFeatures(again.Stderr));
        Assert.Equal(kept.Count, Directory.GetFiles(dir["out2"]).Length);
    }

    [Fact]
    public void MinimizeShrinksAManagedCrashKeepingItsSignature()
    {
        using var dir = new ScratchDirectory();
        string input = dir.Write("crash", "THRW-with-a-long-tail-of-irrelevant-bytes");
        var run = InstrumentedSamples.Run(dir.Path, "crashkinds", "-minimize_crash=1", "-runs=3000", "-seed=3", input);
        Assert.Equal(0, run.ExitCode);
        string minimized = Assert.Single(Directory.GetFiles(dir.Path, "minimized-from-*"));
        Assert.Equal("THRW", File.ReadAllText(minimized));
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash System.FormatException", run.Stderr);
    }

    [Fact]
    public void MinimizeShrinksACrashThatKillsTheExecutor()
    {
        using var dir = new ScratchDirectory();
        string input = dir.Write("crash", "SOVF0123456789");
        var run = InstrumentedSamples.Run(dir.Path, "crashkinds", "-minimize_crash=1", "-runs=200", "-seed=3", "-close_fd_mask=2", input);
        Assert.Equal(0, run.ExitCode);
        string minimized = Assert.Single(Directory.GetFiles(dir.Path, "minimized-from-*"));
        Assert.Equal("SOVF", File.ReadAllText(minimized));
    }

    [Fact]
    public void ParallelExecutorsShareTheBudgetExactly()
    {
        using var dir = new ScratchDirectory();
        var run = HarnessProcess.Run(dir.Path, "magic", "-jobs=2", "-runs=3000", "-seed=2", "-print_final_stats=1", "-ignore_crashes=1", "corpus");
        Assert.Equal(77, run.ExitCode);
        Assert.Contains("stat::number_of_executed_units: 3000", run.Stderr);
        Assert.Single(Directory.GetFiles(dir.Path, "crash-*"));
    }

    [Fact]
    public void UnknownFlagsAreWarnedAboutAndBadOnesAreOneLine()
    {
        using var dir = new ScratchDirectory();
        var warned = HarnessProcess.Run(dir.Path, "maze", "-runs=10", "-not_a_flag=1");
        Assert.Equal(0, warned.ExitCode);
        Assert.Contains("WARNING: unrecognized flag '-not_a_flag=1'", warned.Stderr);

        var bad = HarnessProcess.Run(dir.Path, "maze", "-runs=ten");
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal("ERROR: flag '-runs=ten': 'ten' is not an integer", bad.Stderr.Trim());

        var dict = HarnessProcess.Run(dir.Path, "maze", "-dict=/no/such/file");
        Assert.Equal(1, dict.ExitCode);
        Assert.Single(dict.Stderr.Trim().Split('\n'));

        var merge = HarnessProcess.Run(dir.Path, "maze", "-merge=1", "out", "no-such-dir");
        Assert.Equal(1, merge.ExitCode);
        Assert.Equal("ERROR: -merge=1: input directory 'no-such-dir' does not exist", merge.Stderr.Trim());

        // A corpus directory that cannot be created (a file is in the way).
        dir.Write("blocker", "x");
        var unwritable = HarnessProcess.Run(dir.Path, "maze", "-runs=10", Path.Combine(dir["blocker"], "corpus"));
        Assert.Equal(1, unwritable.ExitCode);
        Assert.StartsWith("ERROR: ", unwritable.Stderr.Trim().Split('\n').Last());
        Assert.DoesNotContain("   at ", unwritable.Stderr);
    }

    private static string ReportOf(string stderr)
    {
        int start = stderr.IndexOf("==ERROR:", StringComparison.Ordinal);
        int end = stderr.IndexOf("INFO: found after", start, StringComparison.Ordinal);
        return stderr[start..(end < 0 ? stderr.Length : end)].Replace("\r", "");
    }

    private static int NewFeatures(string stderr) =>
        int.Parse(Regex.Match(stderr, @"MERGE-OUTER: \d+ new files with (\d+) new features added; \d+ new coverage edges").Groups[1].Value);

    [Fact]
    public void ExecutorsCountCallsForTieringAtOnceUnlessTheUserSetTheDelay()
    {
        var none = new Dictionary<string, string?>();
        Supervisor.ExecutorPool.CountCallsAtOnce(none);
        Assert.Equal("0", none["DOTNET_TC_CallCountingDelayMs"]);
        var mine = new Dictionary<string, string?> { ["DOTNET_TC_CallCountingDelayMs"] = "250" };
        Supervisor.ExecutorPool.CountCallsAtOnce(mine);
        Assert.Equal("250", mine["DOTNET_TC_CallCountingDelayMs"]);
        var old = new Dictionary<string, string?> { ["COMPlus_TC_CallCountingDelayMs"] = "250" };
        Supervisor.ExecutorPool.CountCallsAtOnce(old);
        Assert.False(old.ContainsKey("DOTNET_TC_CallCountingDelayMs"));
    }
}
