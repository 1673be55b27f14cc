using System.CommandLine;
using Kcov.Cli.Commands;

namespace Kcov.Cli;

/// <summary>
/// The <c>dotnet kcov</c> command line (the <c>dotnet-kcov</c> tool): one verb per file under Commands/. Every user error (missing file, bad
/// assembly, bad pattern, bad argument) is one line on stderr starting with "kcov: " and a non-zero exit code.
/// </summary>
public static class KcovCli
{
    /// <summary>Exit code for a user error (a bad argument or input).</summary>
    public const int UserError = 1;

    public static RootCommand Create(Streams io) =>
        new("kcov for .NET: exact per-thread code coverage of managed code, for fuzzing")
        {
            InstrumentCommand.Create(io),
            RunCommand.Create(io),
            SymbolizeCommand.Create(io),
            ReportCommand.Create(io),
            FuzzCommand.Create(io),
            FuzzHttpCommand.Create(io),
        };

    /// <summary>Parses and runs <paramref name="args"/> with the given streams (tests pass their own).</summary>
    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        var io = new Streams(input, output, error);
        // No POSIX bundling: libFuzzer's flags after a harness (-help=1, -runs=10) must reach it whole,
        // not be read as bundles of one-letter options (-help=1 as -h -e -l -p).
        var parse = Create(io).Parse(args, new ParserConfiguration { EnablePosixBundling = false });
        if (parse.Errors.Count > 0)
        {
            // The first error is the one to fix; the rest usually follow from it (one line, as for every user error).
            error.WriteLine($"kcov: {parse.Errors[0].Message} (see dotnet kcov --help)");
            return UserError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (UserErrorException e)
        {
            error.WriteLine("kcov: " + e.Message);
            return UserError;
        }
    }
}
