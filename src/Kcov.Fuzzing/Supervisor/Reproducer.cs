using System.Diagnostics;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Reproduce mode under <c>dotnet kcov run</c>: files as arguments, each run -runs times in this process,
/// on the main thread that its startup hook traces, so that its PCs are the inputs'.
/// The first crash prints the campaign's report and ends the run with the exit code for its kind.
/// Without it, reproduce mode runs the inputs in an executor under the watchdog
/// (<see cref="ReproduceCampaign"/>); here a hang or a stack overflow ends this process, which is
/// what <c>dotnet kcov run</c> then reports.
/// </summary>
internal static class Reproducer
{
    /// <summary>Set by <c>dotnet kcov run</c> for its startup hook (Kcov.Cli.StartupHook's AreaFileVariable).</summary>
    public const string KcovRunAreaFileVariable = "KCOV_RUN_AREA_FILE";

    /// <summary>Whether <c>dotnet kcov run</c> started this process and traces its main thread.</summary>
    public static bool UnderKcovRun => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(KcovRunAreaFileVariable));

    public static int Run(FuzzerOptions options, FuzzTarget target, IReadOnlyList<string> files)
    {
        if ((options.CloseFdMask & 1) != 0)
            Console.SetOut(TextWriter.Null);
        int repeats = (int)Math.Clamp(options.Runs, 1, int.MaxValue);
        Console.Error.WriteLine($"INFO: running {files.Count} inputs {repeats} time(s) each.");
        // No device of ours: the thread is bound to kcov run's, and a thread has one device at a time.
        foreach (var file in files)
        {
            byte[] input = CorpusDirectory.ReadInput(file);
            Console.Error.WriteLine($"Running: {file}");
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < repeats; i++)
            {
                try
                {
                    target.Invoke(input);
                }
                catch (Exception e)
                {
                    var report = CrashReport.FromException(e);
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
