namespace Kcov.Cli.Tests;

/// <summary>Runs the kcov command line in this process (fast, streams captured) or as its own process.</summary>
internal static class Kcov
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static Result Run(params string[] args) => RunWithInput("", args);

    public static Result RunWithInput(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = KcovCli.Run(args, new StringReader(stdin), output, error);
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>`dotnet dotnet-kcov.dll args` as a separate process.</summary>
    public static Result RunProcess(params string[] args) =>
        RunProgram([Path.Combine(AppContext.BaseDirectory, "dotnet-kcov.dll"), .. args]);

    /// <summary>`dotnet program.dll args` as a separate process.</summary>
    public static Result RunProgram(params string[] args)
    {
        var (exitCode, stdout, stderr) = DotnetProcess.Run(args);
        return new Result(exitCode, stdout, stderr);
    }

    /// <summary>The sample built with the tests.</summary>
    public static string HelloParser => Path.Combine(AppContext.BaseDirectory, "HelloParser.dll");

    /// <summary>The sample's source file (its PDB's document).</summary>
    public static string HelloParserSource
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "samples", "HelloParser", "Program.cs");
                if (File.Exists(candidate))
                    return candidate;
            }
            throw new FileNotFoundException("samples/HelloParser/Program.cs not found above " + AppContext.BaseDirectory);
        }
    }
}
