using Kcov.Coverage;
using Kcov.Coverage.Reports;
using Kcov.Workloads;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// Reports as a coverlet user reads them: every line a block's IL spans is covered when the block ran
/// (statements over several lines, arms of a conditional expression), and every outcome of every
/// conditional branch and switch is a branch with its exact count.
/// </summary>
public sealed class LineAndBranchCoverageTests : IDisposable
{
    // Line numbers below are those of this text (line 1 is "public static class Report").
    private const string Source = """
        public static class Report
        {
            public static int Classify(int x, string s)
            {
                int score = x > 10
                    ? x * 2
                    : x + 1;
                if (s.Length > 3 &&
                    s[0] == 'k')
                {
                    score += s.Length;
                }
                switch (x)
                {
                    case 1: score += 100; break;
                    case 2: score += 200; break;
                    case 3: score += 300; break;
                    case 4: score += 400; break;
                }
                return score;
            }
        }
        """;

    private readonly TempDirectory _dir = new();

    [Fact]
    public void EveryLineOfABlockIsCoveredAndEveryBranchOutcomeCounted()
    {
        string original = Snippet.Compile(Source, _dir.Combine("in"), "CoverageSample");
        var result = AssemblyInstrumenter.Instrument(original, _dir.Combine("out"), new InstrumentationOptions { Trace = TraceModes.Pc });
        var context = new InstrumentedLoadContext([result.AssemblyPath]);
        var classify = context.LoadFromAssemblyPath(result.AssemblyPath).GetType("Report")!.GetMethod("Classify")!;
        var pcs = Recorder.Pcs(() =>
        {
            Assert.Equal(28, classify.Invoke(null, [12, "kcov"]));
            Assert.Equal(203, classify.Invoke(null, [2, "ab"]));
        });
        context.Unload();

        var data = CoverageData.FromPcs(new Symbolizer([result.Map]), pcs);
        var method = Assert.Single(data.Methods);
        // Lines 5-7 are one statement: the arm that ran covers all three, as the PDB's sequence point does.
        // (An optimized build has no sequence point for braces or for "switch (x)": those lines are no code.)
        var expected = new SortedDictionary<int, long>
        {
            [5] = 2, [6] = 2, [7] = 2, [8] = 2, [9] = 2, [11] = 1,
            [15] = 0, [16] = 1, [17] = 0, [18] = 0, [20] = 2,
        };
        Assert.True(expected.SequenceEqual(method.Lines), string.Join(", ", method.Lines.Select(l => $"{l.Key}:{l.Value}")));

        // The sample's branches: the conditional expression (2 outcomes), the two conditions of && (2 each, on
        // the if's line 8), and the switch (its four cases and the fall-through to the end: 5). 11 outcomes in all.
        // The switch's dispatch has only a hidden sequence point: its line is the next statement's, case 1's.
        var branches = MethodCoverage.BranchesOfFile([method]);
        Assert.Equal(11, branches.Count);
        Assert.Equal([(5, 2), (8, 4), (15, 5)], branches.GroupBy(b => b.Line).Select(g => (g.Key, g.Count())));
        // Each branch's outcomes together ran as often as the branch did: twice, except s[0] == 'k' (once).
        Assert.Equal([2L, 2L, 1L, 2L], branches.GroupBy(b => b.BranchSite).Select(g => g.Sum(b => b.Taken ?? 0)));
        // x = 12 and x = 2: the switch's fall-through once, case 2 once, cases 1, 3 and 4 never.
        Assert.Equal([1L, 0L, 1L, 0L, 0L], branches.Where(b => b.Line == 15).Select(b => b.Taken ?? -1));
        // s = "kcov" passed both conditions, "ab" failed the first: s[0] == 'k' ran once and was true.
        Assert.Equal([0L, 1L], branches.GroupBy(b => b.BranchSite).ElementAt(2).Select(b => b.Taken ?? -1).Order());

        RendersInReportGeneratorAndChromium(data);

        var lcov = new StringWriter();
        LcovWriter.Write(data, lcov);
        var text = lcov.ToString();
        Assert.Equal(11, text.Split('\n').Count(l => l.StartsWith("BRDA:", StringComparison.Ordinal)));
        Assert.Contains("BRF:11\nBRH:7\n", text);
        Assert.Contains("DA:6,2\n", text);
    }

    /// <summary>
    /// The Cobertura file through ReportGenerator (the maintained HTML generator) with no warning, and
    /// its page for the sample opened in headless Chromium: no console error, the lines that ran marked covered.
    /// </summary>
    private void RendersInReportGeneratorAndChromium(CoverageData data)
    {
        var cobertura = new StringWriter();
        CoberturaWriter.Write(data, cobertura, timestamp: 1700000000);
        File.WriteAllText(_dir.Combine("coverage.cobertura.xml"), cobertura.ToString());
        string reportGenerator = typeof(LineAndBranchCoverageTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "ReportGenerator").Value!;
        var (exit, stdout, stderr) = Child.Run("dotnet", reportGenerator, $"-reports:{_dir.Combine("coverage.cobertura.xml")}",
            $"-targetdir:{_dir.Combine("html")}", "-reporttypes:Html", "-verbosity:Warning");
        Assert.True(exit == 0, stdout + stderr);
        Assert.Equal("", (stdout + stderr).Trim());
        string page = Assert.Single(Directory.GetFiles(_dir.Combine("html"), "*_Report.html"));

        var (chromiumExit, dom, log) = Child.Run(Chromium.Path, [.. Chromium.Flags(_dir.Combine("chromium")), "--enable-logging=stderr", "--v=0", "--dump-dom", "file://" + page]);
        Assert.True(chromiumExit == 0, log);
        Assert.DoesNotContain("Uncaught", log);
        Assert.DoesNotContain(":ERROR:CONSOLE", log);
        // ReportGenerator titles each coverable line's row: lines 6 (an arm of the conditional) and 16 ran; 15, where the
        // switch branches (its dispatch has no line of its own), did not, and 2 of its 5 outcomes were taken.
        Assert.Equal("Covered (2 visits)", RowTitle(dom, 6));
        Assert.Equal("Covered (1 visits)", RowTitle(dom, 16));
        Assert.StartsWith("Not covered (0 visits, 2 of 5 branches", RowTitle(dom, 15));
    }

    private static string RowTitle(string dom, int line)
    {
        var row = System.Text.RegularExpressions.Regex.Match(dom, $@"<tr[^>]*title=""([^""]*)""[^>]*>(?:(?!</tr>).)*id=""file0_line{line}""",
            System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.True(row.Success, $"no row for line {line}");
        return row.Groups[1].Value;
    }

    public void Dispose() => _dir.Dispose();
}
