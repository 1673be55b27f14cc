using System.Buffers.Binary;
using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// Must-find tests on really instrumented code (samples/, instrumented by Kcov.Instrumentation):
/// with a fixed -seed, each planted bug is found within the stated number of executions, from an
/// empty corpus, through the whole harness (supervisor and executor).
/// </summary>
public class SampleTests
{
    private static (int ExitCode, string Stderr, byte[] Crash) Fuzz(string sample, int runs, params string[] flags)
    {
        using var dir = new ScratchDirectory();
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, sample, [$"-runs={runs}", "-seed=1", .. flags, "corpus"]);
        var crashes = Directory.GetFiles(dir.Path, "crash-*");
        Assert.True(crashes.Length <= 1, $"more than one crash:\n{string.Join("\n", stderr.Split('\n').Where(l => l.StartsWith("SUMMARY") || l.StartsWith("==ERROR")))}");
        return (exit, stderr, crashes.Length == 0 ? [] : File.ReadAllBytes(crashes[0]));
    }

    [Fact]
    public void TheSamplesRunInstrumented()
    {
        // The copy the tests fuzz has PC maps and calls Kcov.Runtime; the build output does not.
        static bool CallsKcov(string dll)
        {
            using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(dll));
            var md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
            return md.AssemblyReferences.Any(r => md.GetString(md.GetAssemblyReference(r).Name) == "Kcov.Runtime");
        }
        Assert.True(File.Exists(Path.Combine(InstrumentedSamples.Directory, "Kcov.Samples.Targets.kcovmap")));
        Assert.True(File.Exists(Path.Combine(InstrumentedSamples.Directory, "Markdig.kcovmap")));
        Assert.True(CallsKcov(Path.Combine(InstrumentedSamples.Directory, "Kcov.Samples.Targets.dll")));
        Assert.False(CallsKcov(Path.Combine(AppContext.BaseDirectory, "Kcov.Samples.Targets.dll")));
    }

    [Fact]
    public void MagicNumberIsFoundWithHintsWithin1000Executions()
    {
        var (exit, stderr, crash) = Fuzz("magic", 1_000);
        Assert.Equal(77, exit);
        Assert.Equal(0x4B434F56u, BinaryPrimitives.ReadUInt32LittleEndian(crash));
        Assert.Contains("planted bug: the magic number was accepted", stderr);
        Assert.Contains("MagicNumberTarget.cs:line", stderr);
    }

    [Fact]
    public void MagicNumberIsNotFoundWithoutHintsInTheSameBudget()
    {
        var (exit, _, crash) = Fuzz("magic", 1_000, "-use_cmp=0");
        Assert.Equal(0, exit);
        Assert.Empty(crash);
    }

    [Fact]
    public void KeywordIsFoundThroughTheTargetsLiteralsWithin10000Executions()
    {
        var (exit, stderr, crash) = Fuzz("keyword", 10_000);
        Assert.Equal(77, exit);
        Assert.StartsWith("detonate", System.Text.Encoding.ASCII.GetString(crash));
        Assert.Contains("KeywordTarget.Run", stderr);
    }

    [Fact]
    public void KeywordIsNotFoundWithoutTheAutoDictionaryInTheSameBudget()
    {
        // The call-site hooks see the string switch's comparisons: they are off too, to test the dictionary alone.
        var (exit, _, _) = Fuzz("keyword", 10_000, "-auto_dict=0", "-use_call_hooks=0");
        Assert.Equal(0, exit);
    }

    [Fact]
    public void LengthFieldIsFoundWithin1000Executions()
    {
        var (exit, stderr, crash) = Fuzz("length", 1_000);
        Assert.Equal(77, exit);
        Assert.Equal(crash.Length - 2, BinaryPrimitives.ReadUInt16LittleEndian(crash));
        Assert.Equal((byte)'!', crash[2]);
        Assert.Contains("System.IndexOutOfRangeException", stderr);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash System.IndexOutOfRangeException <- Kcov.Samples.Targets.LengthFieldTarget.Run", stderr);
    }

    [Fact]
    public void NestedStructureIsFoundWithin20000Executions()
    {
        var (exit, stderr, crash) = Fuzz("nested", 20_000);
        Assert.Equal(77, exit);
        Assert.Equal("NEST"u8.ToArray(), crash[..4]);
        Assert.Equal(2, crash[4]);
        Assert.Contains("<- Kcov.Samples.Targets.NestedTarget.SumList <- Kcov.Samples.Targets.NestedTarget.Run", stderr);
    }

    [Fact]
    public void NestedStructureBehindAwaitsIsFoundThroughARemoteSection()
    {
        var (exit, stderr, crash) = Fuzz("nested-async", 20_000);
        Assert.Equal(77, exit);
        Assert.Equal("NEST"u8.ToArray(), crash[..4]);
        Assert.Contains("NestedTarget.SumList", stderr);
    }

    [Fact]
    public void AnAreaTooSmallForMarkdigIsReported()
    {
        using var dir = new ScratchDirectory();
        dir.Write("seeds/doc.md", string.Concat(Enumerable.Repeat("# Title\n\n* a *b* `c` [d](e)\n\n", 40)));
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "markdown", "-runs=200", "-seed=1", "-kcov_area_words=1024", "-print_final_stats=1", "corpus", "seeds");
        Assert.Equal(0, exit);
        Assert.Contains("INFO: the kcov area (1024 words) filled up during an input", stderr);
        var overflows = Regex.Match(stderr, @"stat::kcov_area_overflows: (\d+)");
        Assert.True(long.Parse(overflows.Groups[1].Value) > 0, stderr);
    }

    [Fact]
    public void MarkdigCoverageGrowsFromAnEmptyCorpus()
    {
        using var dir = new ScratchDirectory();
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, "markdown", "-runs=5000", "-seed=1", "corpus");
        Assert.Equal(0, exit);
        var done = Regex.Match(stderr, @"#5000\tDONE +cov: (\d+) ft: (\d+) corp: (\d+)/");
        Assert.True(done.Success, stderr);
        // Markdig has ~9,400 instrumented blocks; 5,000 executions from nothing reach well over 1,000.
        Assert.True(int.Parse(done.Groups[1].Value) > 1_000, done.Value);
        Assert.True(Directory.GetFiles(dir["corpus"]).Length > 100);
    }
}
