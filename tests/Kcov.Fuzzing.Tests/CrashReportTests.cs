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
        // Signed by the recursion alone: the same whether the runtime's text shows the callers or not.
        Assert.Equal("StackOverflow <- My.Parser.Recurse", report.Signature);
        Assert.Equal(["   at My.Parser.Recurse(Int32)  [x1000]", "   at My.Parser.Parse(System.ReadOnlySpan`1<Byte>)"], report.Frames);
    }

    [Fact]
    public void AStackOverflowHasOneSignatureWhetherOrNotTheRuntimeFoundItsRepetition()
    {
        // Overflowing in a helper, the runtime prints every frame; the kept last words then end before the callers.
        string flat = "Stack overflow.\n   at System.Threading.Thread.GetThreadStaticsBase()\n   at Kcov.Trace.Pc(UInt64)\n"
            + string.Concat(Enumerable.Repeat("   at My.Parser.Recurse(Int32)\n", 5000));
        const string folded = """
            Stack overflow.
            Repeated 5000 times:
            --------------------------------
               at My.Parser.Recurse(Int32)
            --------------------------------
               at My.Parser.Parse(System.ReadOnlySpan`1<Byte>)
            """;
        Assert.Equal(CrashReport.FromDeath(folded, 134).Signature, CrashReport.FromDeath(flat, 134).Signature);
        Assert.Contains("   at My.Parser.Recurse(Int32)  [x5000]", CrashReport.FromDeath(flat, 134).Frames);
    }

    [Fact]
    public void AStackOverflowInsideAProbeIsSignedByTheTargetsFrames()
    {
        // The stack may run out in any block's probe: the trace path's frames are not the bug's.
        const string stderr = """
            Stack overflow.
               at Kcov.ThreadIdentity.IsCurrentThread(Kcov.KcovState*, Byte ByRef)
               at Kcov.Trace.PcTracing(Byte ByRef, Kcov.KcovState*, UInt64, UInt32)
               at <Kcov>.Pc(Byte ByRef, UInt32)
            Repeated 1000 times:
            --------------------------------
               at My.Parser.Recurse(Int32)
            --------------------------------
               at My.Parser.Parse(System.ReadOnlySpan`1<Byte>)
               at Kcov.Fuzzing.Executor.TargetRunner.Run(System.ReadOnlySpan`1<Byte>)
            """;
        Assert.Equal("StackOverflow <- My.Parser.Recurse", CrashReport.FromDeath(stderr, 134).Signature);
    }

    [Fact]
    public void SignaturesNameTheSourceMethodsOfAsyncMethodsAndLambdas()
    {
        // The same bug seen through two stacks the JIT may produce (with and without the lambda frame).
        const string withLambda = """
            Unhandled exception. System.IndexOutOfRangeException: Index was outside the bounds of the array.
               at My.Parser.SumList(System.ReadOnlySpan`1<Byte>)
               at My.Parser.Run(System.ReadOnlySpan`1<Byte>)
               at My.AsyncParser+<>c__DisplayClass0_0.<Run>b__0()
               at My.AsyncParser+<Run>d__0.MoveNext()
            """;
        const string withoutLambda = """
            Unhandled exception. System.IndexOutOfRangeException: Index was outside the bounds of the array.
               at My.Parser.SumList(System.ReadOnlySpan`1<Byte>)
               at My.Parser.Run(System.ReadOnlySpan`1<Byte>)
               at My.AsyncParser+<Run>d__0.MoveNext()
            """;
        var a = CrashReport.FromDeath(withLambda, 134);
        var b = CrashReport.FromDeath(withoutLambda, 134);
        Assert.Equal("System.IndexOutOfRangeException <- My.Parser.SumList <- My.Parser.Run <- My.AsyncParser.Run", a.Signature);
        Assert.Equal(a.Signature, b.Signature);

        const string onAThread = """
            Unhandled exception. System.ApplicationException: boom
               at My.Target.<>c.<Run>b__2_0() in /src/Target.cs:line 27
               at System.Threading.Thread.StartCallback()
            """;
        Assert.Equal("System.ApplicationException <- My.Target.Run", CrashReport.FromDeath(onAThread, 134).Signature);
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
        Assert.Equal("deadly signal (Environment.FailFast in the .NET target: invariant broken; the runtime aborted the process)", report.Title);
        Assert.Equal("FailFast <- My.Thing.Check", report.Signature);
    }

    [Fact]
    public void UnknownDeathIsNamedByItsSignal()
    {
        var report = CrashReport.FromDeath("", 139);
        Assert.Equal("deadly signal (the executor was ended by signal 11)", report.Title);
        Assert.Equal("Exit139", report.Signature);
        var exited = CrashReport.FromDeath("", 3);
        Assert.Equal("fuzz target exited (the .NET target ended the process with exit code 3)", exited.Title);
    }
}
