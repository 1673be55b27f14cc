using Kcov.Coverage;
using Kcov.Tests;

namespace Kcov.Cli.Tests;

/// <summary>
/// The README's main command, verb by verb, on the bundled sample: instrument it, run it on one input
/// with trace-pc on its main thread, symbolize the PCs (kcov.rst's SyS_read / fs/read_write.c:562 example),
/// and report coverage.
/// </summary>
public sealed class DemoTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private string Instrumented()
    {
        var result = Kcov.Run("instrument", Kcov.HelloParser, "-o", _dir.Combine("out"));
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.StartsWith("HelloParser.dll: module 0x", result.Out);
        return _dir.Combine("out");
    }

    private string Input(string text)
    {
        string path = _dir.Combine("input-" + Guid.NewGuid().ToString("N") + ".ini");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void InstrumentWritesARunnableApplication()
    {
        string output = Instrumented();
        foreach (string file in new[] { "HelloParser.dll", "HelloParser.pdb", "HelloParser.kcovmap", "Kcov.Runtime.dll", "HelloParser.runtimeconfig.json", "HelloParser.deps.json" })
            Assert.True(File.Exists(Path.Combine(output, file)), file + " missing");
        Assert.Contains("Kcov.Runtime/1.0.0.0", File.ReadAllText(Path.Combine(output, "HelloParser.deps.json")));
    }

    [Fact]
    public void EverySiteOfTheSampleSymbolizesToARealLineOfItsSource()
    {
        string output = Instrumented();
        var map = PcMap.Load(Path.Combine(output, "HelloParser.kcovmap"));
        var lines = File.ReadAllLines(Kcov.HelloParserSource);
        Assert.True(map.SiteCount > 10);
        var symbolizer = new Symbolizer([map]);
        for (int i = 0; i < map.SiteCount; i++)
        {
            var symbol = symbolizer.Symbolize(map.PcOf(i));
            Assert.StartsWith("HelloParser.Program.", symbol.Function);
            Assert.Equal(Path.GetFullPath(Kcov.HelloParserSource), Path.GetFullPath(symbol.File!));
            Assert.InRange(symbol.Line, 1, lines.Length);
            string text = lines[symbol.Line - 1].Trim();
            Assert.False(text.Length == 0 || text.StartsWith("//", StringComparison.Ordinal), $"site {i} is on line {symbol.Line}: '{text}'");
        }
    }

    [Fact]
    public void RunPrintsThePcsOfTheMainThreadLikeKcovsExample()
    {
        string output = Instrumented();
        var run = Kcov.Run("run", "--", Path.Combine(output, "HelloParser.dll"), Input("[server]\nport = 8080\n"));
        Assert.True(run.ExitCode == 0, run.Error);
        var pcs = PcList.Read(new StringReader(run.Out), "run").ToList();
        Assert.All(run.Out.TrimEnd('\n').Split('\n'), line => Assert.Matches("^0x[0-9a-f]+$", line));
        var map = PcMap.Load(Path.Combine(output, "HelloParser.kcovmap"));
        Assert.All(pcs, pc => Assert.True(map.TryGetSite(pc, out _)));
        // Main's entry block runs first.
        Assert.Equal(map.PcOf(0), pcs[0]);

        var symbolized = Kcov.RunWithInput(run.Out, "symbolize", "--map", output);
        Assert.Equal(0, symbolized.ExitCode);
        var lines = symbolized.Out.TrimEnd('\n').Split('\n');
        Assert.Equal(2 * pcs.Count, lines.Length);
        Assert.Equal("HelloParser.Program.Main", lines[0]);
        // Main's first statement (a Release build has no sequence point on the opening brace).
        Assert.EndsWith("Program.cs:" + (Array.FindIndex(File.ReadAllLines(Kcov.HelloParserSource), l => l.Contains("if (args.Length != 1)")) + 1), lines[1]);
        Assert.Contains("HelloParser.Program.ParseSection", lines);
        Assert.Contains("HelloParser.Program.ParsePair", lines);
    }

    [Fact]
    public void DifferentInputsTakeDifferentPaths()
    {
        string output = Instrumented();
        string program = Path.Combine(output, "HelloParser.dll");
        var a = Kcov.Run("run", "--", program, Input("a = 1\n"));
        var b = Kcov.Run("run", "--", program, Input("[unclosed\nnot a pair\n"));
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(1, b.ExitCode);
        Assert.NotEqual(a.Out.Split('\n').ToHashSet(), b.Out.Split('\n').ToHashSet());
    }

    [Fact]
    public void RunReturnsTheProgramsExitCodeAndKeepsCoverageOfACrash()
    {
        string output = Instrumented();
        string program = Path.Combine(output, "HelloParser.dll");
        var usage = Kcov.Run("run", "-o", _dir.Combine("usage.txt"), "--", program);
        Assert.Equal(2, usage.ExitCode);
        Assert.Equal(2, File.ReadAllLines(_dir.Combine("usage.txt")).Length);

        // A missing input file: File.ReadAllLines throws and the process dies of an unhandled exception.
        var crash = Kcov.Run("run", "-o", _dir.Combine("crash.txt"), "--", program, _dir.Combine("missing.ini"));
        Assert.NotEqual(0, crash.ExitCode);
        Assert.NotEmpty(File.ReadAllLines(_dir.Combine("crash.txt")));
    }

    /// <summary>kcov run and its program run with a /dev/shm of their own: afterwards it holds nothing, and the PCs were read.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RunLeavesNoAreaBehindHoweverTheProgramEnds(bool crash)
    {
        string output = Instrumented();
        string pcs = _dir.Combine("pcs.txt");
        var (exit, stdout, stderr) = DotnetProcess.Run(PrivateShm.Wrap(DotnetProcess.StartInfo(
            Path.Combine(AppContext.BaseDirectory, "dotnet-kcov.dll"), "run", "-o", pcs, "--",
            Path.Combine(output, "HelloParser.dll"), crash ? _dir.Combine("missing.ini") : Input("x = y\n"))));

        Assert.True(crash ? exit != 0 : exit == 0, stderr);
        Assert.Empty(PrivateShm.Left(stdout));
        Assert.NotEmpty(File.ReadAllLines(pcs));
    }

    [Fact]
    public void ReportsInEveryFormat()
    {
        string output = Instrumented();
        string pcs = _dir.Combine("pcs.txt");
        Assert.Equal(0, Kcov.Run("run", "-o", pcs, "--", Path.Combine(output, "HelloParser.dll"), Input("[s]\nk = v\n")).ExitCode);

        var summary = Kcov.Run("report", "--map", output, "--pcs", pcs);
        Assert.Equal(0, summary.ExitCode);
        Assert.Matches(@"^blocks: \d+ of \d+ covered", summary.Out);
        Assert.Contains("HelloParser.Program.ParsePair", summary.Out);

        string lcov = _dir.Combine("cov.info");
        Assert.Equal(0, Kcov.Run("report", "--map", output, "--pcs", pcs, "--format", "lcov", "-o", lcov).ExitCode);
        Assert.StartsWith("TN:\nSF:", File.ReadAllText(lcov));
        Assert.EndsWith("end_of_record\n", File.ReadAllText(lcov));

        string cobertura = _dir.Combine("cov.xml");
        Assert.Equal(0, Kcov.Run("report", "--map", output, "--pcs", pcs, "--format", "cobertura", "-o", cobertura).ExitCode);
        Assert.Equal("HelloParser.Program", System.Xml.Linq.XDocument.Load(cobertura).Descendants("class").Single().Attribute("name")!.Value);
    }

    public void Dispose() => _dir.Dispose();
}
