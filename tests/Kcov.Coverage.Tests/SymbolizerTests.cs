namespace Kcov.Coverage.Tests;

public sealed class SymbolizerTests
{
    private readonly Symbolizer _symbolizer = new([Maps.Parser()]);

    [Fact]
    public void PrintsAddr2LinesTwoLines()
    {
        Assert.Equal("Demo.Parser.Parse\n/src/Demo/Parser.cs:12", _symbolizer.Symbolize(SiteId.Pc(Maps.ModuleId, 2)).ToAddr2Line());
        Assert.Equal("Demo.Parser+<>c.<Parse>b__0_0\n/src/Demo/Parser.cs:11", _symbolizer.Symbolize(SiteId.Pc(Maps.ModuleId, 6)).ToAddr2Line());
    }

    [Fact]
    public void UnknownPcsAndSitesWithoutSourceGiveQuestionMarks()
    {
        Assert.Equal("??\n??:0", _symbolizer.Symbolize(0x42).ToAddr2Line());
        Assert.Equal("??\n??:0", _symbolizer.Symbolize(SiteId.Pc(Maps.ModuleId, 8)).ToAddr2Line());
        Assert.Equal("Demo.Generated.Run\n??:0", _symbolizer.Symbolize(SiteId.Pc(Maps.ModuleId, 7)).ToAddr2Line());
        Assert.False(_symbolizer.Symbolize(0x42).Known);
    }

    [Fact]
    public void LoadsEveryMapOfADirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kcov-sym-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            Maps.Parser().Save(Path.Combine(dir, "Demo.kcovmap"));
            var other = new PcMap(77, "Other", "Other.dll", Guid.Empty, Guid.Empty, true, false, [],
                [new PcMapMethod(1, "O", "M", "()", "O", "M")], [new PcMapSite(SiteKind.Block, 0, 0, -1, 0, 0)]);
            other.Save(Path.Combine(dir, "Other.kcovmap"));
            var symbolizer = Symbolizer.LoadDirectory(dir);
            Assert.Equal(["Demo.dll", "Other.dll"], symbolizer.Maps.Select(m => m.ModuleName));
            Assert.Equal("O.M", symbolizer.Symbolize(SiteId.Pc(77, 0)).Function);
            Assert.Equal("Demo.Parser.IsDigit", symbolizer.Symbolize(SiteId.Pc(Maps.ModuleId, 4)).Function);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void DirectoryErrorsAreClear()
    {
        Assert.Contains("does not exist", Assert.Throws<DirectoryNotFoundException>(() => Symbolizer.LoadDirectory("/no/such/dir")).Message);
        string empty = Path.Combine(Path.GetTempPath(), "kcov-empty-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        try
        {
            Assert.Contains("no .kcovmap files", Assert.Throws<InvalidDataException>(() => Symbolizer.LoadDirectory(empty)).Message);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void TwoMapsWithOneModuleIdAreRefused() =>
        Assert.Throws<ArgumentException>(() => new Symbolizer([Maps.Parser(), Maps.Parser()]));

    [Theory]
    [InlineData("0x1a\n\n1B\n 0X2c \n", new ulong[] { 0x1a, 0x1b, 0x2c })]
    [InlineData("", new ulong[0])]
    public void PcListsParseKcovsFormat(string text, ulong[] expected) =>
        Assert.Equal(expected, PcList.Read(new StringReader(text), "in").ToArray());

    [Theory]
    [InlineData("0x1a\nzz\n", "in:2: 'zz' is not a PC")]
    [InlineData("0x\n", "in:1: '0x' is not a PC")]
    [InlineData("0x11112222333344445\n", "in:1:")]
    public void BadPcLinesNameTheLine(string text, string message) =>
        Assert.StartsWith(message, Assert.Throws<FormatException>(() => PcList.Read(new StringReader(text), "in").ToArray()).Message);

    [Fact]
    public void PcsFormatLikeKcovsExample() => Assert.Equal("0x1234abcd00000002", PcList.Format(SiteId.Pc(Maps.ModuleId, 2)));
}
