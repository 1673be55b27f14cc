using System.Xml.Linq;
using Kcov.Coverage.Reports;

namespace Kcov.Coverage.Tests;

public sealed class ReportTests
{
    private static ulong Pc(int site) => SiteId.Pc(Maps.ModuleId, site);

    // Parse entered twice, its block at line 12 once, IsDigit never, the lambda once, plus a cmp PC and a foreign PC.
    private static CoverageData Data() => CoverageData.FromPcs(new Symbolizer([Maps.Parser()]),
        [Pc(0), Pc(2), Pc(0), Pc(1), Pc(6), 0xfeed]);

    [Fact]
    public void CountsBlocksPerFileTypeAndMethod()
    {
        var data = Data();
        Assert.Equal(new CoverageCount(3, 6), data.Total);
        Assert.Equal(1, data.UnknownPcs);
        Assert.Equal([("(no source)", new CoverageCount(0, 1)), ("/src/Demo/Parser.cs", new CoverageCount(3, 5))], data.ByFile());
        Assert.Equal([("Demo.Generated", new CoverageCount(0, 1)), ("Demo.Parser", new CoverageCount(3, 5))], data.ByType());
        Assert.Equal([("Demo.Generated.Run", new CoverageCount(0, 1)), ("Demo.Parser.IsDigit", new CoverageCount(0, 1)),
            ("Demo.Parser.Parse", new CoverageCount(3, 4))], data.ByMethod());
    }

    [Fact]
    public void WritesLcov()
    {
        var text = new StringWriter();
        LcovWriter.Write(Data(), text);
        Assert.Equal("""
            TN:
            SF:/src/Demo/Parser.cs
            FN:10,Demo.Parser.Parse(System.String)
            FN:11,Demo.Parser+<>c.<Parse>b__0_0(System.Int32)
            FN:20,Demo.Parser.IsDigit(System.Char)
            FNDA:2,Demo.Parser.Parse(System.String)
            FNDA:1,Demo.Parser+<>c.<Parse>b__0_0(System.Int32)
            FNDA:0,Demo.Parser.IsDigit(System.Char)
            FNF:3
            FNH:2
            BRDA:11,0,0,1
            BRDA:11,0,1,0
            BRF:2
            BRH:1
            DA:10,2
            DA:11,2
            DA:12,1
            DA:14,0
            DA:20,0
            LF:5
            LH:3
            end_of_record

            """, text.ToString());
    }

    [Fact]
    public void WritesCoberturaThatFollowsTheDtdsShape()
    {
        var text = new StringWriter();
        CoberturaWriter.Write(Data(), text, timestamp: 1700000000);
        var xml = XDocument.Parse(text.ToString());
        Assert.Equal("coverage", xml.DocumentType!.Name);
        var coverage = xml.Root!;
        Assert.Equal("3", coverage.Attribute("lines-covered")!.Value);
        Assert.Equal("5", coverage.Attribute("lines-valid")!.Value);
        Assert.Equal("0.6", coverage.Attribute("line-rate")!.Value);
        Assert.Equal("1", coverage.Attribute("branches-covered")!.Value);
        Assert.Equal("2", coverage.Attribute("branches-valid")!.Value);
        Assert.Equal("0.5", coverage.Attribute("branch-rate")!.Value);
        Assert.Equal("1700000000", coverage.Attribute("timestamp")!.Value);
        var package = Assert.Single(coverage.Element("packages")!.Elements("package"));
        Assert.Equal("Demo", package.Attribute("name")!.Value);
        var classes = package.Element("classes")!.Elements("class").ToList();
        // Code without source lines has no class (a class with filename="" makes ReportGenerator look for file '').
        Assert.Equal(["Demo.Parser"], classes.Select(c => c.Attribute("name")!.Value));
        var parser = classes[0];
        Assert.Equal("/src/Demo/Parser.cs", parser.Attribute("filename")!.Value);
        Assert.Equal(["Parse", "Parse:Demo.Parser+<>c.<Parse>b__0_0", "IsDigit"], parser.Element("methods")!.Elements("method").Select(m => m.Attribute("name")!.Value));
        Assert.Equal(["10:2", "11:2", "12:1", "14:0", "20:0"],
            parser.Element("lines")!.Elements("line").Select(l => l.Attribute("number")!.Value + ":" + l.Attribute("hits")!.Value));
        var branch = parser.Element("lines")!.Elements("line").Single(l => l.Attribute("number")!.Value == "11");
        Assert.Equal("true", branch.Attribute("branch")!.Value);
        Assert.Equal("50% (1/2)", branch.Attribute("condition-coverage")!.Value);
        Assert.Equal("50%", branch.Element("conditions")!.Element("condition")!.Attribute("coverage")!.Value);
    }

    [Fact]
    public void WritesASummary()
    {
        var text = new StringWriter();
        SummaryWriter.Write(Data(), text);
        string summary = text.ToString();
        Assert.StartsWith("blocks: 3 of 6 covered (50.0%) in 1 module(s); 1 PC(s) matched no map\n", summary);
        Assert.Contains("       3        4   75.0%  Demo.Parser.Parse\n", summary);
    }
}
