using System.Diagnostics;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Files as arguments: run each once, in this process, and print the same report the campaign
/// printed when it found the input (libFuzzer's reproduce mode). The first crash ends the run
/// with the campaign's exit code for its kind.
/// </summary>
internal static class Reproducer
{
    public static int Run(FuzzerOptions options, FuzzTarget target, IReadOnlyList<string> files)
    {
        if ((options.CloseFdMask & 1) != 0)
            Console.SetOut(TextWriter.Null);
        int repeats = (int)Math.Clamp(options.Runs, 1, int.MaxValue);
        Console.Error.WriteLine($"INFO: running {files.Count} inputs {repeats} time(s) each.");
        // Through a runner, as in the campaign: traced (trace-pc), so that a crash names the same
        // throwing block, and a target whose code runs in a service learns of the faults there.
        using var runner = new TargetRunner(target, options.AreaWords);
        foreach (var file in files)
        {
            byte[] input = CorpusDirectory.ReadInput(file);
            Console.Error.WriteLine($"Running: {file}");
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < repeats; i++)
            {
                if (runner.Run(input) is { } e)
                {
                    var report = CrashReport.FromException(e, runner.ThrowSite);
                    Console.Error.Write(report.Render(input));
                    return report.Kind == ArtifactKind.Oom ? FuzzerOptions.OomExitCode : options.ErrorExitCode;
                }
            }
            Console.Error.WriteLine($"Executed {file} in {clock.ElapsedMilliseconds} ms");
        }
        Console.Error.WriteLine("***");
        Console.Error.WriteLine("*** NOTE: fuzzing was not performed, you have only");
        Console.Error.WriteLine("***       executed the target code on a fixed set of inputs.");
        Console.Error.WriteLine("***");
        return 0;
    }
}
