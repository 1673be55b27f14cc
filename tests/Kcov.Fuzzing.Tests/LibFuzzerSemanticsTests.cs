using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// libFuzzer's process semantics, through the harness on the really instrumented samples: a
/// campaign stops at its first finding unless an -ignore_* flag says otherwise; reproduce mode
/// runs under the campaign's watchdog and prints the campaign's report for every kind of
/// finding, with libFuzzer's exit codes; -runs=N repeats each input.
/// </summary>
public class LibFuzzerSemanticsTests
{
    [Fact]
    public void ACampaignStopsAtItsFirstFinding()
    {
        using var dir = new ScratchDirectory();
        dir.Write("seeds/a", "THRW");
        dir.Write("seeds/b", "FAIL");
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "crashkinds", "-runs=100000", "-seed=1", "-auto_dict=0", "-artifact_prefix=art/", "corpus", "seeds");
        Assert.Equal(77, exit);
        Assert.Single(Directory.GetFiles(dir["art"]));
        Assert.Single(Regex.Matches(stderr, "Test unit written to "));
        var done = Regex.Match(stderr, @"#(\d+)\tDONE ");
        Assert.True(done.Success && long.Parse(done.Groups[1].Value) < 100, stderr);
    }

    [Fact]
    public void ForkWithIgnoreCrashesGoesOnAndFindsTwoDistinctPlantedBugs()
    {
        using var dir = new ScratchDirectory();
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "records", "-fork=2", "-ignore_crashes=1", "-runs=30000", "-seed=1",
            "-artifact_prefix=art/", "-print_final_stats=1", "corpus");
        Assert.Equal(77, exit);
        Assert.Contains("INFO: -fork=2: fuzzing in separate process(s)", stderr);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash System.DivideByZeroException <- Kcov.Samples.Targets.RecordsTarget.Average", stderr);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash System.ArgumentOutOfRangeException <- Kcov.Samples.Targets.RecordsTarget.Text", stderr);
        var crashes = Directory.GetFiles(dir["art"]).Select(File.ReadAllBytes).ToList();
        Assert.Equal(2, crashes.Count);
        Assert.Contains(crashes, c => c[3] == 'A');
        Assert.Contains(crashes, c => c[3] == 'S');
        Assert.Matches(@"#30000\tDONE ", stderr);
    }

    /// <summary>Each kind of finding, reproduced from its input file: header line, exit code, artifact.</summary>
    [Theory]
    [InlineData("THRW", 77, "crash-", "==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target: System.FormatException: planted exception")]
    [InlineData("THRD", 77, "crash-", "==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target, unhandled on a thread of its own: System.ApplicationException: planted exception on another thread")]
    [InlineData("SOVF", 77, "crash-", "==ERROR: libFuzzer: stack overflow in the .NET target (ExceptionCode: 0x800703E9 (Stack overflow)); the runtime ended the process")]
    [InlineData("FAIL", 77, "crash-", "==ERROR: libFuzzer: deadly signal (Environment.FailFast in the .NET target: planted FailFast; the runtime aborted the process)")]
    [InlineData("OOMX", 71, "oom-", "==ERROR: libFuzzer: out-of-memory (System.OutOfMemoryException in the .NET target: ")]
    [InlineData("RSSX", 71, "oom-", "==ERROR: libFuzzer: out-of-memory (used: ")]
    [InlineData("HANG", 70, "timeout-", "==ERROR: libFuzzer: timeout after 3 seconds (the input ran longer than -timeout=3)", 3)]
    public void ReproduceModeReportsEveryKindUnderTheWatchdog(string input, int exitCode, string artifact, string header, int timeout = 60)
    {
        using var dir = new ScratchDirectory();
        // Without the watchdog a hang would run forever; with it, it ends after -timeout. RSSX
        // allocates 1 GiB, which crosses -rss_limit_mb=512 long before a hang's generous -timeout
        // for the others, even on a busy machine.
        string file = dir.Write(input, input);
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "crashkinds", "-runs=100", $"-timeout={timeout}", "-rss_limit_mb=512", "-close_fd_mask=2", file);
        Assert.True(exit == exitCode, stderr);
        string report = stderr[stderr.IndexOf("==ERROR: ", StringComparison.Ordinal)..];
        Assert.StartsWith(header, report);
        Assert.Contains("\nSUMMARY: Kcov.Fuzzing: ", report);
        Assert.StartsWith(artifact, Path.GetFileName(Assert.Single(Directory.GetFiles(dir.Path, artifact + "*"))));
        if (input is "SOVF" or "HANG" or "FAIL" or "THRD")
            // The executor died: what its input ran, from its kcov area, names the target's code.
            Assert.Matches(@"\nLast blocks run \(kcov area, newest first\):\n    #0 0x[0-9a-f]{16} in Kcov\.Samples\.Targets\.CrashKindsTarget\.\w+ \S+CrashKindsTarget\.cs:\d+", report);
        Assert.DoesNotContain("*** NOTE: fuzzing was not performed", stderr);
    }

    [Fact]
    public void ReproduceModeRunsEachInputRunsTimes()
    {
        using var dir = new ScratchDirectory();
        string a = dir.Write("a", "one"), b = dir.Write("b", "two");
        var run = HarnessProcess.Run(dir.Path, "noisy", "-runs=5", "-close_fd_mask=2", a, b);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(10, Regex.Matches(run.Stdout, "TARGET-STDOUT").Count);
        Assert.Contains("INFO: running 2 inputs 5 time(s) each.", run.Stderr);
        Assert.Matches($@"Running: {Regex.Escape(a)}\nExecuted {Regex.Escape(a)} in \d+ ms\nRunning: {Regex.Escape(b)}\nExecuted {Regex.Escape(b)} in \d+ ms\n", run.Stderr.Replace("\r", ""));
        Assert.Contains("*** NOTE: fuzzing was not performed, you have only", run.Stderr);
    }

    [Fact]
    public void TheLogHasLibFuzzersLinesForToolsThatParseIt()
    {
        using var dir = new ScratchDirectory();
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "markdown", "-runs=300", "-seed=1", "-print_final_stats=1",
            "-detect_leaks=1", "-focus_function=Run", "-data_flow_trace=dft", "corpus");
        Assert.Equal(0, exit);
        var loaded = Regex.Match(stderr, @"(?m)^INFO: Loaded 2 modules \((\d+) kcov trace-pc sites\): Kcov\.Samples\.Targets \((\d+)\), Markdig \((\d+)\)$");
        Assert.True(loaded.Success, stderr);
        Assert.Equal(int.Parse(loaded.Groups[1].Value), int.Parse(loaded.Groups[2].Value) + int.Parse(loaded.Groups[3].Value));
        Assert.Contains("INFO: -max_len is not provided; libFuzzer will not generate inputs larger than 4096 bytes", stderr);
        Assert.Matches(@"(?m)^stat::slowest_unit_time_sec: \d+$", stderr);
        // Flags ClusterFuzz passes that mean nothing for .NET: accepted, one line each.
        Assert.Contains("INFO: -detect_leaks=1 has no effect: .NET memory is garbage-collected, there is no LeakSanitizer", stderr);
        Assert.Contains("INFO: -focus_function=Run has no effect", stderr);
        Assert.Contains("INFO: -data_flow_trace=dft has no effect", stderr);
        Assert.DoesNotContain("WARNING: unrecognized flag", stderr);
    }
}
