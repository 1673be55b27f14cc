using System.Runtime.CompilerServices;
using Kcov.Fuzzing.Crashes;

namespace Kcov.Fuzzing.Tests;

public class CrashReportTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Thrower(int x) => throw new ArgumentException($"bad {x}");

    private static CrashReport Capture(int x)
    {
        try
        {
            Thrower(x);
        }
        catch (ArgumentException e)
        {
            return CrashReport.FromException(e);
        }
        throw new InvalidOperationException("Thrower did not throw");
    }

    [Fact]
    public void ExceptionReportCarriesTypeFramesWithLinesAndTheInputInHex()
    {
        var report = Capture(1);
        Assert.Equal(ArtifactKind.Crash, report.Kind);
        Assert.StartsWith("System.ArgumentException <- Kcov.Fuzzing.Tests.CrashReportTests.Thrower", report.Signature);
        Assert.Contains(report.Frames, f => f.Contains("CrashReportTests.cs:line"));
        string text = report.Render("AB\x01"u8);
        Assert.Contains("INPUT: 3 bytes", text);
        Assert.Contains("41 42 01", text);
        Assert.Contains("|AB.|", text);
    }

    [Fact]
    public void SameBugDifferentMessageSameSignature()
    {
        var a = Capture(1);
        var b = Capture(2);
        Assert.Equal(a.Signature, b.Signature);
        Assert.NotEqual(a.Title, b.Title);
    }

    [Fact]
    public void OutOfMemoryExceptionIsAnOomFinding() =>
        Assert.Equal(ArtifactKind.Oom, CrashReport.FromException(new OutOfMemoryException()).Kind);

    [Fact]
    public void StackOverflowIsReadFromTheRuntimesLastWords()
    {
        const string stderr = """
            some target output
            Stack overflow.
            Repeated 1000 times:
            --------------------------------
               at My.Parser.Recurse(Int32)
            --------------------------------
               at My.Parser.Parse(System.ReadOnlySpan`1<Byte>)
               at Kcov.Fuzzing.Executor.TargetRunner.Run(System.ReadOnlySpan`1<Byte>)
               at Program.<Main>$(System.String[])
            """;
        var report = CrashReport.FromDeath(stderr, 134);
        Assert.Equal("StackOverflow <- My.Parser.Recurse <- My.Parser.Parse", report.Signature);
        Assert.Equal(2, report.Frames.Count);
    }

    [Fact]
    public void FailFastKeepsItsMessage()
    {
        const string stderr = """
            Process terminated.
            invariant broken
               at System.Environment.FailFast(System.String)
               at My.Thing.Check()
            """;
        var report = CrashReport.FromDeath(stderr, 134);
        Assert.Equal("Process terminated. invariant broken", report.Title);
        Assert.Equal("FailFast <- My.Thing.Check", report.Signature);
    }

    [Fact]
    public void UnknownDeathIsNamedByItsSignal()
    {
        var report = CrashReport.FromDeath("", 139);
        Assert.Contains("signal 11", report.Title);
        Assert.Equal("Exit139", report.Signature);
    }
}
