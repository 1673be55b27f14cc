using System.Text;

namespace Kcov.Cli.Tests;

/// <summary>
/// <c>dotnet kcov report --corpus DIR -- harness.dll [args]</c>: a corpus run once through its harness,
/// reported exactly as the per-file <c>dotnet kcov run</c> traces would be, without a trace on disk.
/// </summary>
public sealed class CorpusReportTests(CorpusReportTests.App app) : IClassFixture<CorpusReportTests.App>, IDisposable
{
    /// <summary>Kcov.Samples with its targets instrumented by <c>dotnet kcov fuzz</c> (one run), shared by the tests.</summary>
    public sealed class App : IDisposable
    {
        private readonly TempDirectory _dir = new();

        public App()
        {
            Directory.CreateDirectory(_dir.Combine("empty"));
            var fuzz = Kcov.Run("fuzz", Path.Combine(AppContext.BaseDirectory, "Kcov.Samples.dll"), "-o", Harness[..^"/Kcov.Samples.dll".Length],
                "nested", "-runs=1", _dir.Combine("empty"));
            Assert.True(fuzz.ExitCode == 0, fuzz.Error);
        }

        public string Harness => _dir.Combine("app", "Kcov.Samples.dll");

        public void Dispose() => _dir.Dispose();
    }

    private readonly TempDirectory _dir = new();

    /// <summary>Inputs of the nested sample: each check failed and passed, records, a list, the planted bug's crash.</summary>
    private static readonly byte[][] NestedInputs =
    [
        [],
        "NEST"u8.ToArray(),
        [.. "NEST"u8, 1, 0],
        [.. "NEST"u8, 2],
        [.. "NEST"u8, 2, 7, 2, (byte)'a', (byte)'b'],
        [.. "NEST"u8, 2, 0x2A, 3, 1, 5, 0, 9, 1, 0],
        [.. "NEST"u8, 2, 0x2A, 1, 9],
    ];

    private string Corpus(string name, IEnumerable<byte[]> inputs)
    {
        string dir = _dir.Combine(name);
        Directory.CreateDirectory(dir);
        int i = 0;
        foreach (var input in inputs)
            File.WriteAllBytes(Path.Combine(dir, $"input-{i++:D4}"), input);
        return dir;
    }

    /// <summary>The PCs `dotnet kcov run` records for each file of <paramref name="corpus"/>, one run per file, concatenated.</summary>
    private string PerFileTraces(string corpus, string target)
    {
        var all = new StringBuilder();
        foreach (string file in Directory.GetFiles(corpus).Order(StringComparer.Ordinal))
        {
            string pcs = _dir.Combine("one.pcs");
            Kcov.Run("run", "-o", pcs, "--", app.Harness, target, file);
            all.Append(File.ReadAllText(pcs));
        }
        return all.ToString();
    }

    private string Lcov(string pcs) =>
        Run(Kcov.RunWithInput(pcs, "report", "--map", Path.GetDirectoryName(app.Harness)!, "--pcs", "-", "--format", "lcov"));

    private static string Run(Kcov.Result result)
    {
        Assert.True(result.ExitCode == 0, result.Error);
        return result.Out;
    }

    [Fact]
    public void CorpusCoverageIsThatOfThePerFileRuns()
    {
        string corpus = Corpus("corpus", NestedInputs);
        string expected = Lcov(PerFileTraces(corpus, "nested"));
        var result = Kcov.Run("report", "--corpus", corpus, "--format", "lcov", "--", app.Harness, "nested");
        Assert.Equal(expected, Run(result));
        // The last input crashes in SumList (its coverage up to the crash is counted, as kcov run records it).
        Assert.Contains("DA:", expected);
        Assert.Matches(@"FNDA:[1-9]\d*,Kcov\.Samples\.Targets\.NestedTarget\.SumList", expected);
        Assert.EndsWith($"kcov: ran 7 inputs of '{corpus}'; 1 of them crashed or hung (listed above).\n", result.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void TheAreaIsResetPerInputSoALargeCorpusNeverFillsIt()
    {
        const int copies = 60;
        var inputs = NestedInputs[..^1];
        string one = Corpus("one", inputs);
        string traces = PerFileTraces(one, "nested");
        int pcsOfTheCorpus = copies * traces.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        // The corpus as one trace would need more than twice the 1024-word area the harness is given.
        Assert.True(pcsOfTheCorpus > 2 * 1024, $"{pcsOfTheCorpus} PCs");
        string corpus = Corpus("large", Enumerable.Repeat(inputs, copies).SelectMany(i => i));

        var result = Kcov.Run("report", "--corpus", corpus, "--format", "lcov", "--", app.Harness, "nested", "-kcov_area_words=1024");

        Assert.Equal(Lcov(string.Concat(Enumerable.Repeat(traces, copies))), Run(result));
        Assert.Equal($"kcov: ran {copies * inputs.Length} inputs of '{corpus}'.\n", result.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void AnInputLargerThanTheAreaIsNamed()
    {
        // 10,000 records: more blocks than a 1024-word area holds.
        string corpus = Corpus("big", [[.. "NEST"u8, 2, .. new byte[20000]]]);
        var result = Kcov.Run("report", "--corpus", corpus, "--", app.Harness, "nested", "-kcov_area_words=1024");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"kcov: note: '{Path.Combine(corpus, "input-0000")}' filled the kcov area, so its later PCs were dropped; pass a larger -kcov_area_words=N after the harness.\n" +
            $"kcov: ran 1 inputs of '{corpus}'.\n", result.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void CrashingAndHangingInputsAreReportedAndTheRestIsCounted()
    {
        // A thrown exception (the harness goes on), an exception on another thread (it ends the harness),
        // a hang (killed after --timeout), and inputs that pass, before and after each.
        string corpus = Corpus("crashes", [.. new[] { "abcd", "THRW", "THRD", "efgh", "HANG", "ijkl" }.Select(Encoding.ASCII.GetBytes)]);
        string Input(int i) => Path.Combine(corpus, $"input-{i:D4}");

        var result = Kcov.Run("report", "--corpus", corpus, "--timeout", "2", "--format", "lcov", "--", app.Harness, "crashkinds");

        Assert.Equal(
            $"kcov: input '{Input(1)}' crashed: FATAL EXCEPTION in the .NET target: System.FormatException: planted exception (its coverage up to the crash is counted).\n" +
            $"kcov: input '{Input(2)}' ended the harness (exit code 134); its coverage is not counted; see why with dotnet {app.Harness} crashkinds {Input(2)}.\n" +
            $"kcov: input '{Input(4)}' timed out after 2 s; its coverage is not counted.\n" +
            $"kcov: ran 6 inputs of '{corpus}'; 3 of them crashed or hung (listed above).\n",
            result.Error.ReplaceLineEndings("\n"));
        // Exactly the coverage of the inputs that returned or threw.
        File.Delete(Input(2));
        File.Delete(Input(4));
        Assert.Equal(Lcov(PerFileTraces(corpus, "crashkinds")), Run(result));
    }

    [Fact]
    public void ErrorsAreOneLine()
    {
        string corpus = Corpus("corpus", NestedInputs[..2]);
        string missing = _dir.Combine("missing");
        Assert.Equal($"kcov: corpus directory '{missing}' does not exist; pass the directory of inputs (e.g. the fuzzer's corpus).\n",
            Failed(Kcov.Run("report", "--corpus", missing, "--", app.Harness, "nested")));
        Directory.CreateDirectory(_dir.Combine("empty"));
        Assert.Equal($"kcov: corpus directory '{_dir.Combine("empty")}' has no input files; nothing to report.\n",
            Failed(Kcov.Run("report", "--corpus", _dir.Combine("empty"), "--", app.Harness, "nested")));
        Assert.Equal($"kcov: '{Kcov.HelloParser}' is not a fuzz harness (it does not reference Kcov.Fuzzing); " +
            "--corpus runs the inputs through a harness whose Main returns Kcov.Fuzzing.Fuzzer.Run(args, target).\n",
            Failed(Kcov.Run("report", "--corpus", corpus, "--", Kcov.HelloParser)));
        Assert.Equal($"kcov: '{_dir.Combine("nope.dll")}' is not a harness .dll; pass the instrumented harness after --, e.g. -- kcov-fuzz/MyFuzzer.dll.\n",
            Failed(Kcov.Run("report", "--corpus", corpus, "--", _dir.Combine("nope.dll"))));
        Assert.Equal("kcov: --corpus needs the harness after --, e.g. dotnet kcov report --corpus corpus -- kcov-fuzz/MyFuzzer.dll (see dotnet kcov --help)\n",
            Failed(Kcov.Run("report", "--corpus", corpus)));

        // The harness's PCs against the maps of another build.
        Assert.Equal(0, Kcov.Run("instrument", Kcov.HelloParser, "-o", _dir.Combine("hello")).ExitCode);
        string noneMatches = Failed(Kcov.Run("report", "--map", _dir.Combine("hello"), "--corpus", corpus, "--", app.Harness, "nested"));
        Assert.Matches($@"^kcov: none of the \d+ PCs matches a PC map in '{System.Text.RegularExpressions.Regex.Escape(_dir.Combine("hello"))}' \(HelloParser.dll\); " +
            @"pass the --map directory of the instrumented build that produced them.\n$", noneMatches);
    }

    private static string Failed(Kcov.Result result)
    {
        Assert.Equal(KcovCli.UserError, result.ExitCode);
        Assert.Equal("", result.Out);
        return result.Error.ReplaceLineEndings("\n");
    }

    public void Dispose() => _dir.Dispose();
}
