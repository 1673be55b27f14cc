namespace Kcov.Cli.Tests;

/// <summary>Every user error is one line on stderr, starting with "kcov: ", and a non-zero exit code.</summary>
public sealed class ErrorTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static void OneLine(Kcov.Result result, string expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("", result.Out);
        string error = result.Error.TrimEnd('\n');
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith("kcov: ", error);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void MissingAssembly() => OneLine(Kcov.Run("instrument", _dir.Combine("none.dll"), "-o", _dir.Combine("o")), "does not exist");

    [Fact]
    public void NotADotNetAssembly()
    {
        File.WriteAllText(_dir.Combine("text.dll"), "hello");
        OneLine(Kcov.Run("instrument", _dir.Combine("text.dll"), "-o", _dir.Combine("o")), "not a .NET assembly");
    }

    [Fact]
    public void AlreadyInstrumented()
    {
        Assert.Equal(0, Kcov.Run("instrument", Kcov.HelloParser, "-o", _dir.Combine("o")).ExitCode);
        OneLine(Kcov.Run("instrument", _dir.Combine("o", "HelloParser.dll"), "-o", _dir.Combine("o2")), "already instrumented");
    }

    [Fact]
    public void BadPattern() => OneLine(Kcov.Run("instrument", Kcov.HelloParser, "-o", _dir.Combine("o"), "--exclude", "Hello[Parser"), "Bad --exclude pattern");

    [Fact]
    public void BadTraceMode() => OneLine(Kcov.Run("instrument", Kcov.HelloParser, "-o", _dir.Combine("o"), "--trace", "edges"), "Unknown trace mode");

    [Fact]
    public void UnknownVerbOrOption()
    {
        OneLine(Kcov.Run("instrumnet", "x.dll"), "kcov --help");
        OneLine(Kcov.Run("report", "--map", _dir.Path, "--pcs", "x", "--format", "xml"), "--format xml is unknown");
        OneLine(Kcov.Run("run", "--size", "1", "--", Kcov.HelloParser), "--size must be at least 2");
    }

    [Fact]
    public void FuzzOfAProgramThatIsNotAHarness()
    {
        var result = Kcov.Run("fuzz", Kcov.HelloParser, "-o", _dir.Combine("app"), "-runs=10");
        Assert.Equal($"kcov: '{Kcov.HelloParser}' is not a fuzz harness (it does not reference Kcov.Fuzzing); " +
            "its Main must return Kcov.Fuzzing.Fuzzer.Run(args, target) (package Kcov.Fuzzing).\n", result.Error.ReplaceLineEndings("\n"));
        Assert.Equal(KcovCli.UserError, result.ExitCode);
        Assert.False(Directory.Exists(_dir.Combine("app")));
    }

    [Fact]
    public void ReportWithAMapThatMatchesNoneOfThePcs()
    {
        Assert.Equal(0, Kcov.Run("instrument", Kcov.HelloParser, "-o", _dir.Combine("o")).ExitCode);
        File.WriteAllText(_dir.Combine("pcs.txt"), "0x1234567800000001\n0x1234567800000002\n");
        var result = Kcov.Run("report", "--map", _dir.Combine("o"), "--pcs", _dir.Combine("pcs.txt"), "--format", "cobertura", "-o", _dir.Combine("r.xml"));
        Assert.Equal($"kcov: none of the 2 PCs matches a PC map in '{_dir.Combine("o")}' (HelloParser.dll); " +
            "pass the --map directory of the instrumented build that produced them.\n", result.Error.ReplaceLineEndings("\n"));
        Assert.Equal(KcovCli.UserError, result.ExitCode);
        Assert.False(File.Exists(_dir.Combine("r.xml")));
    }

    [Fact]
    public void MissingMapDirectoryAndBadPcLine()
    {
        OneLine(Kcov.Run("symbolize", "--map", _dir.Combine("nomaps")), "does not exist");
        OneLine(Kcov.Run("symbolize", "--map", _dir.Path), "no .kcovmap files");
        Assert.Equal(0, Kcov.Run("instrument", Kcov.HelloParser, "-o", _dir.Combine("o")).ExitCode);
        OneLine(Kcov.RunWithInput("0x1\nnot-a-pc\n", "symbolize", "--map", _dir.Combine("o")), "stdin:2: 'not-a-pc' is not a PC");
        OneLine(Kcov.Run("report", "--map", _dir.Combine("o"), "--pcs", _dir.Combine("none.txt")), "does not exist");
    }

    [Fact]
    public void RunOfSomethingMissingOrNotDotNet()
    {
        OneLine(Kcov.Run("run", "--", _dir.Combine("none.dll")), "does not exist");
        // /bin/true is a program, but not a .NET one: the hook never runs.
        OneLine(Kcov.Run("run", "--", "/bin/true"), "before kcov's startup hook enabled coverage");
    }

    [Fact]
    public void UnknownPcsSymbolizeAsQuestionMarks()
    {
        Assert.Equal(0, Kcov.Run("instrument", Kcov.HelloParser, "-o", _dir.Combine("o")).ExitCode);
        var result = Kcov.RunWithInput("0x42\n", "symbolize", "--map", _dir.Combine("o"));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("??\n??:0\n", result.Out.ReplaceLineEndings("\n"));
    }

    public void Dispose() => _dir.Dispose();
}
