namespace Kcov.Cli.Tests;

/// <summary>Instrumenting the same file in two separate processes gives identical PCs, PC maps and assemblies.</summary>
public sealed class StabilityTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Theory]
    [InlineData("HelloParser.dll", "pc")]
    [InlineData("Newtonsoft.Json.dll", "pc,cmp")]
    public void TwoProcessesWriteTheSameBytes(string file, string trace)
    {
        string input = Path.Combine(AppContext.BaseDirectory, file);
        var a = Kcov.RunProcess("instrument", input, "--trace", trace, "-o", _dir.Combine("a"));
        var b = Kcov.RunProcess("instrument", input, "--trace", trace, "-o", _dir.Combine("b"));
        Assert.True(a.ExitCode == 0, a.Error);
        Assert.True(b.ExitCode == 0, b.Error);
        Assert.Equal(a.Out.Replace("/a/", "/"), b.Out.Replace("/b/", "/"));
        string name = Path.GetFileNameWithoutExtension(file);
        foreach (string output in new[] { name + ".kcovmap", file })
            Assert.Equal(File.ReadAllBytes(_dir.Combine("a", output)), File.ReadAllBytes(_dir.Combine("b", output)));
    }

    public void Dispose() => _dir.Dispose();
}
