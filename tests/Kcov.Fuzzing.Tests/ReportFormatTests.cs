using System.Runtime.CompilerServices;
using Kcov.Fuzzing.Crashes;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// Golden reports, one per kind of finding, with the lines ClusterFuzz's stack parser reads:
/// the first line sets the crash type (docs/clusterfuzz.md lists what each one yields), and the
/// frames that follow it make the crash state: for an exception the first three
/// "   at Ns.Type.Method(...)" lines, which must be the target's own code (the runtime's frames are
/// marked "(runtime)"); for a stack overflow the "#n 0xPC in Function file:line" lines of the last
/// blocks run. Every report has "ERROR: libFuzzer" and "SUMMARY:", which ClusterFuzz's corpus
/// pruning needs to count a run as a crash.
/// </summary>
public class ReportFormatTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ParseCount(string text) => int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ReadHeader(string text) => ParseCount(text) + 1;

    private static CrashReport Capture(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            return CrashReport.FromException(e);
        }
        throw new InvalidOperationException("nothing was thrown");
    }

    private static string[] Lines(string text) => text.Replace("\r", "").TrimEnd('\n').Split('\n');

    [Fact]
    public void AnExceptionIsAFatalExceptionWhoseFirstFramesAreTheTargets()
    {
        var report = Capture(() => ReadHeader("x"));
        var lines = Lines(report.Render("x"u8));
        Assert.Equal("==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target: System.FormatException: The input string 'x' was not in a correct format.", lines[0]);
        // The runtime's frames (the throw helper, int.Parse) come first on the stack and are marked.
        int own = Array.FindIndex(lines, l => l.StartsWith("   at ", StringComparison.Ordinal));
        Assert.True(own > 1, string.Join("\n", lines));
        Assert.All(lines[1..own], l => Assert.StartsWith("   (runtime) at System.", l));
        Assert.Matches(@"^   at Kcov\.Fuzzing\.Tests\.ReportFormatTests\.ParseCount\(String\) in \S+ReportFormatTests\.cs:line \d+$", lines[own]);
        Assert.Matches(@"^   at Kcov\.Fuzzing\.Tests\.ReportFormatTests\.ReadHeader\(String\) in \S+ReportFormatTests\.cs:line \d+$", lines[own + 1]);
        Assert.Contains(lines, l => l.StartsWith("SUMMARY: Kcov.Fuzzing: crash System.FormatException <- Kcov.Fuzzing.Tests.ReportFormatTests.ParseCount <- Kcov.Fuzzing.Tests.ReportFormatTests.ReadHeader", StringComparison.Ordinal));
        Assert.Equal(["INPUT: 1 bytes", "  00000000  78                                               |x|"], lines[^2..]);
    }

    [Fact]
    public void AHarnessMarksASecurityIssueByItsExceptionType()
    {
        var report = Capture(() => throw new FuzzerSecurityIssueHigh("the input named a file outside the sandbox"));
        Assert.Equal("FATAL EXCEPTION in the .NET target: Kcov.Fuzzing.FuzzerSecurityIssueHigh: the input named a file outside the sandbox", report.Title);
    }

    [Fact]
    public void InnerExceptionsFollowTheFirstLine()
    {
        var report = Capture(() => throw new InvalidDataException("bad record", new FormatException("bad number")));
        Assert.Equal(
            ["==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target: System.IO.InvalidDataException: bad record", " ---> System.FormatException: bad number"],
            Lines(report.Render([]))[..2]);
    }

    [Fact]
    public void AManagedOutOfMemoryIsLibFuzzersOutOfMemory()
    {
        var report = Capture(() => throw new OutOfMemoryException("heap limit reached"));
        Assert.Equal("==ERROR: libFuzzer: out-of-memory (System.OutOfMemoryException in the .NET target: heap limit reached)", Lines(report.Render([]))[0]);
        Assert.Equal(ArtifactKind.Oom, report.Kind);
    }

    [Fact]
    public void AStackOverflowNamesItsExceptionCodeAndShowsTheRecursionAsLastBlocks()
    {
        const string lastWords = """
            Stack overflow.
            Repeated 261772 times:
            --------------------------------
               at My.Parser.ParseValue(Int32)
               at My.Parser.ParseList(Int32)
            --------------------------------
               at My.Parser.Parse(System.ReadOnlySpan`1<Byte>)
               at Kcov.Fuzzing.Executor.TargetRunner.Run(System.ReadOnlySpan`1<Byte>)
            """;
        var report = CrashReport.FromDeath(lastWords, 134).WithLastBlocks(
        [
            "    #0 0x0001000200000011 in My.Parser.ParseValue /src/Parser.cs:40",
            "    #1 0x0001000200000017 in My.Parser.ParseList /src/Parser.cs:52",
            "    #2 0x0001000200000011 in My.Parser.ParseValue /src/Parser.cs:40",
        ]);
        Assert.Equal(
        [
            "==ERROR: libFuzzer: stack overflow in the .NET target (ExceptionCode: 0x800703E9 (Stack overflow)); the runtime ended the process",
            "   at My.Parser.ParseValue(Int32)  [x261772]",
            "   at My.Parser.ParseList(Int32)  [x261772]",
            "   at My.Parser.Parse(System.ReadOnlySpan`1<Byte>)",
            "Last blocks run (kcov area, newest first):",
            "    #0 0x0001000200000011 in My.Parser.ParseValue /src/Parser.cs:40",
            "    #1 0x0001000200000017 in My.Parser.ParseList /src/Parser.cs:52",
            "    #2 0x0001000200000011 in My.Parser.ParseValue /src/Parser.cs:40",
            "SUMMARY: Kcov.Fuzzing: crash StackOverflow <- My.Parser.ParseList <- My.Parser.ParseValue",
            "INPUT: 0 bytes",
        ], Lines(report.Render([])));
    }

    [Fact]
    public void FailFastIsADeadlySignal()
    {
        const string lastWords = """
            Process terminated.
            planted FailFast
               at System.Environment.FailFast(System.String)
               at My.Target.Run(System.ReadOnlySpan`1<Byte>)
               at Kcov.Fuzzing.Executor.TargetRunner.Run(System.ReadOnlySpan`1<Byte>)
            """;
        Assert.Equal(
        [
            "==ERROR: libFuzzer: deadly signal (Environment.FailFast in the .NET target: planted FailFast; the runtime aborted the process)",
            "   (runtime) at System.Environment.FailFast(System.String)",
            "   at My.Target.Run(System.ReadOnlySpan`1<Byte>)",
            "SUMMARY: Kcov.Fuzzing: crash FailFast <- My.Target.Run",
        ], Lines(CrashReport.FromDeath(lastWords, 134).Render([]))[..4]);
    }

    [Fact]
    public void AnExceptionOnAnotherThreadIsAFatalException()
    {
        const string lastWords = """
            Unhandled exception. System.ApplicationException: planted exception on another thread
               at My.Target.<>c.<Run>b__2_0() in /src/Target.cs:line 27
               at System.Threading.Thread.StartCallback()
            """;
        Assert.Equal(
        [
            "==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target, unhandled on a thread of its own: System.ApplicationException: planted exception on another thread",
            "   at My.Target.<>c.<Run>b__2_0() in /src/Target.cs:line 27",
            "   (runtime) at System.Threading.Thread.StartCallback()",
            "SUMMARY: Kcov.Fuzzing: crash System.ApplicationException <- My.Target.Run",
        ], Lines(CrashReport.FromDeath(lastWords, 134).Render([]))[..4]);
    }

    [Fact]
    public void HangsAndRssAreLibFuzzersTimeoutAndOutOfMemory()
    {
        Assert.Equal("==ERROR: libFuzzer: timeout after 3 seconds (the input ran longer than -timeout=3)", Lines(CrashReport.Timeout(3).Render([]))[0]);
        Assert.Equal("==ERROR: libFuzzer: out-of-memory (used: 612Mb; exceeds: 512Mb; the executor's RSS, read from /proc)",
            Lines(CrashReport.OutOfMemory(612, 512).Render([]))[0]);
    }

    [Fact]
    public void TheInputsHexDumpIsIndented()
    {
        // An unindented "00000000  41 2b 31 ... |A+1|" line reads as a stack frame to ClusterFuzz.
        var lines = Lines(CrashReport.Timeout(1).Render("A+1"u8));
        Assert.Equal("  00000000  41 2b 31                                         |A+1|", lines[^1]);
    }
}
