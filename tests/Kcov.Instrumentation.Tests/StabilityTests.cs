namespace Kcov.Instrumentation.Tests;

/// <summary>Same input bytes, same output bytes: PCs, PC map, assembly and PDB (across processes: see Kcov.Cli.Tests).</summary>
public sealed class StabilityTests
{
    [Fact]
    public void InstrumentingTwiceGivesIdenticalFiles()
    {
        using var dir = new TempDirectory();
        string input = Snippet.Compile(Samples.Source, dir.Combine("in"), "Stable");
        var options = new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp };
        var a = AssemblyInstrumenter.Instrument(input, dir.Combine("a"), options);
        var b = AssemblyInstrumenter.Instrument(input, dir.Combine("b"), options);
        Assert.Equal(File.ReadAllBytes(a.MapPath), File.ReadAllBytes(b.MapPath));
        Assert.Equal(File.ReadAllBytes(a.AssemblyPath), File.ReadAllBytes(b.AssemblyPath));
        Assert.Equal(File.ReadAllBytes(a.PdbPath!), File.ReadAllBytes(b.PdbPath!));
    }

    [Fact]
    public void ModuleIdComesFromTheInputIdentityAndSitesAreDense()
    {
        using var dir = new TempDirectory();
        string input = Snippet.Compile(Samples.Source, dir.Combine("in"), "Dense");
        var result = AssemblyInstrumenter.Instrument(input, dir.Combine("out"), new InstrumentationOptions());
        using var module = Mono.Cecil.ModuleDefinition.ReadModule(input);
        Assert.Equal(Coverage.SiteId.ModuleIdFor("Dense", module.Mvid), result.ModuleId);
        Assert.Equal(module.Mvid, result.Map.InputMvid);
        Assert.NotEqual(module.Mvid, result.Map.OutputMvid);
        // Every site is numbered, probed or not: pruned blocks keep an index in the map.
        Assert.Equal(result.Statistics.Sites + result.Statistics.ImpliedBlocks, result.Map.SiteCount);
        Assert.True(result.Statistics.ImpliedBlocks > 0);
    }
}
