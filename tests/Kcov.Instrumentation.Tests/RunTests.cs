using System.Diagnostics;
using Kcov.Coverage;

namespace Kcov.Instrumentation.Tests;

/// <summary>The instrumented samples run with a device enabled: the exact PC and comparison sequences.</summary>
public sealed class RunTests(SamplesFixture samples) : IClassFixture<SamplesFixture>
{
    private const ulong Const = KcovAbi.CmpConst;
    private static readonly ulong Size4 = KcovAbi.CmpSize(2), Size8 = KcovAbi.CmpSize(3);

    [Theory]
    [InlineData(11, 1, new[] { 0, 2 })]
    [InlineData(1, 2, new[] { 0, 3 })]
    public void BranchTakesOneBlockOrTheOther(int x, int expected, int[] sites)
    {
        object? result = null;
        var pcs = Recorder.Pcs(() => result = samples.Call("Branch", x));
        Assert.Equal(expected, result);
        Assert.Equal(sites, samples.Sites(pcs));
    }

    [Fact]
    public void LoopRecordsEveryIteration()
    {
        var pcs = Recorder.Pcs(() => Assert.Equal(1, samples.Call("Loop", 2)));
        Assert.Equal([26, 28, 27, 28, 27, 28, 30], samples.Sites(pcs));
    }

    [Theory]
    [InlineData(2, 12, new[] { 18, 23 })]
    [InlineData(7, -1, new[] { 18, 20, 25 })]
    public void SwitchGoesToItsTarget(int x, int expected, int[] sites)
    {
        var pcs = Recorder.Pcs(() => Assert.Equal(expected, samples.Call("Switch", x)));
        Assert.Equal(sites, samples.Sites(pcs));
    }

    [Theory]
    [InlineData("5", 5, new[] { 31, 33, 34 })]
    [InlineData("x", -1, new[] { 31, 32, 33, 34 })]
    public void HandlersRecordTheirBlocks(string input, int expected, int[] sites)
    {
        var pcs = Recorder.Pcs(() => Assert.Equal(expected, samples.Call("TryCatchFinally", input)));
        Assert.Equal(sites, samples.Sites(pcs));
    }

    [Theory]
    [InlineData(1, 1, new[] { 35, 36, 38, 41, 42, 44 })]
    [InlineData(0, 2, new[] { 35, 36, 38, 41, 43, 44 })]
    public void FiltersRunInstrumented(int x, int expected, int[] sites)
    {
        var pcs = Recorder.Pcs(() => Assert.Equal(expected, samples.Call("Filter", x)));
        Assert.Equal(sites, samples.Sites(pcs));
    }

    [Fact]
    public async Task AsyncMethodIsRecordedOnTheBoundThreadUntilItsFirstAwait()
    {
        Task<int>? task = null;
        var pcs = Recorder.Pcs(() => task = (Task<int>)samples.Call("Async", 5)!);
        Assert.Equal(5, await task!);
        // Kickoff, MoveNext up to Task.Yield's continuation being scheduled; the rest runs on the pool.
        Assert.Equal([52, 64, 65, 67, 69, 77], samples.Sites(pcs));
    }

    [Fact]
    public void IteratorsGenericsAndLambdasRunAndRecord()
    {
        var pcs = Recorder.Pcs(() =>
        {
            Assert.Equal(3, ((IEnumerable<int>)samples.Call("Iterator", 3)!).Sum());
            Assert.Equal(5, samples.Call("Max", [typeof(int)], 3, 5));
            Assert.Equal("b", samples.Call("Max", [typeof(string)], "a", "b"));
            Assert.Equal("2", samples.Call("ReadonlyConstrained", [typeof(int)], new[] { 1, 2 }, 1));
            Assert.Equal(5, samples.Call("Lambda", 5));
        });
        var methods = samples.Sites(pcs).Select(i => samples.Map.Methods[samples.Map.Sites[i].Method].FullName).Distinct().ToList();
        Assert.Contains("Constructs+<Iterator>d__18.MoveNext", methods);
        Assert.Contains("Constructs.Max", methods);
        Assert.Contains("Constructs+<>c__DisplayClass19_0.<Lambda>b__0", methods);
    }

    [Fact]
    public void ComparisonsRecordKcovsFourWordRecords()
    {
        ulong Pc(int site) => samples.Map.PcOf(site);
        Assert.Equal([(Size4 | Const, 10UL, 11UL, Pc(1))], Recorder.Cmps(() => samples.Call("Branch", 11)));
        Assert.Equal([(Size4, 3UL, 4UL, Pc(5))], Recorder.Cmps(() => samples.Call("Equal", 3, 4)));
        Assert.Equal([(Size8 | Const, 5UL, 7UL, Pc(9))], Recorder.Cmps(() => samples.Call("LongConst", 7L)));
        Assert.Equal([(Size8, ulong.MaxValue, 2UL, Pc(11))], Recorder.Cmps(() => samples.Call("NativeGreater", (nint)(-1), (nint)2)));
        Assert.Equal([(Size4 | Const, 0UL, 1UL, Pc(15))], Recorder.Cmps(() => samples.Call("Truth", true)));
        Assert.Empty(Recorder.Cmps(() => samples.Call("Floats", 1.0, 2.0)));
        Assert.Empty(Recorder.Cmps(() => samples.Call("IsNull", new object())));
    }

    [Fact]
    public void EveryMethodOfTheSamplesIsTypedForTraceCmp() => Assert.Equal(0, samples.Result.Statistics.UntypedMethods);

    [Fact]
    public void ComparisonAfterACallToAnInitAccessorIsTraced()
    {
        var method = samples.Assembly.GetType("Settings")!.GetMethod("IsDefaultPort")!;
        var records = Recorder.Cmps(() => Assert.Equal(true, method.Invoke(null, [8080])));
        Assert.Equal((Size4 | Const, 8080UL, 8080UL), (records.Single().Type, records.Single().Arg1, records.Single().Arg2));
    }

    [Fact]
    public void SwitchRecordsOneConstRecordPerCase()
    {
        var records = Recorder.Cmps(() => samples.Call("Switch", 2));
        ulong pc = samples.Map.PcOf(19);
        Assert.Equal([(Size4 | Const, 0UL, 2UL, pc), (Size4 | Const, 1UL, 2UL, pc), (Size4 | Const, 2UL, 2UL, pc), (Size4 | Const, 3UL, 2UL, pc)], records);
    }

    [Fact]
    public void NoDeviceBoundRecordsNothingAndStillComputes()
    {
        Assert.Equal(1, samples.Call("Branch", 11));
        var pcs = Recorder.Pcs(() => { });
        Assert.Empty(pcs);
    }

    [Fact]
    public void EverySiteOfAMethodWithSourceHasARealLine()
    {
        var lines = Samples.Source.Split('\n');
        var sites = samples.Map.Sites.ToArray();
        Assert.NotEmpty(sites);
        foreach (var site in sites)
        {
            var method = samples.Map.Methods[site.Method];
            // Implicit constructors (of Shapes and of the lambda's display class) are the only code without any source.
            if (method.Name == ".ctor")
                continue;
            Assert.True(site.HasLocation, $"{method.FullName} IL_{site.ILOffset:x4} has no source line");
            Assert.InRange(site.Line, 1, lines.Length);
            Assert.False(string.IsNullOrWhiteSpace(lines[site.Line - 1]), $"{method.FullName} line {site.Line} is blank");
        }
    }

    [Fact]
    public void InMemoryInstrumentationLoadsFromStreamsForLoadTimeHosts()
    {
        var instrumented = AssemblyInstrumenter.InstrumentToMemory(samples.OriginalPath, new InstrumentationOptions());
        Assert.NotNull(instrumented.Pdb);
        var context = new InstrumentedLoadContext([]);
        try
        {
            var assembly = context.LoadFromStream(new MemoryStream(instrumented.Assembly), new MemoryStream(instrumented.Pdb!));
            var branch = assembly.GetType("Constructs")!.GetMethod("Branch")!;
            var pcs = Recorder.Pcs(() => Assert.Equal(1, branch.Invoke(null, [11])));
            // trace-pc only: no comparison site between the entry block and the "return 1" block.
            Assert.Equal([instrumented.Map.PcOf(0), instrumented.Map.PcOf(1)], pcs);
            Assert.Equal(samples.Map.ModuleId, instrumented.Map.ModuleId);
        }
        finally
        {
            context.Unload();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StackTracesKeepTheirLineNumbers(bool embedded)
    {
        using var dir = new TempDirectory();
        string dll = Snippet.Compile(Samples.Source, dir.Combine("in"), "Lines", embedPdb: embedded);
        var result = AssemblyInstrumenter.Instrument(dll, dir.Combine("out"), new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });
        Assert.Equal(embedded, result.PdbPath is null);
        var context = new InstrumentedLoadContext([result.AssemblyPath]);
        try
        {
            var method = context.LoadFromAssemblyPath(result.AssemblyPath).GetType("Constructs")!.GetMethod("Throws")!;
            var e = Assert.Throws<System.Reflection.TargetInvocationException>(() => method.Invoke(null, [1]));
            var frame = new StackTrace(e.InnerException!, fNeedFileInfo: true).GetFrame(0)!;
            int expected = Array.FindIndex(Samples.Source.Split('\n'), l => l.Contains("throw new ArgumentOutOfRangeException")) + 1;
            Assert.Equal("Throws", frame.GetMethod()!.Name);
            Assert.Equal(expected, frame.GetFileLineNumber());
            Assert.EndsWith("Lines.cs", frame.GetFileName());
        }
        finally
        {
            context.Unload();
        }
    }
}
