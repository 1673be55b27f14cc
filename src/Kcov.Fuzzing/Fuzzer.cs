using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;
using Kcov.Fuzzing.Supervisor;

namespace Kcov.Fuzzing;

/// <summary>
/// The entry point of a fuzz harness: <c>static int Main(string[] args) => Fuzzer.Run(args, Target);</c>.
/// The harness executable is then the fuzzer and takes libFuzzer's flags. Started by a user it
/// is the supervisor (or reproduces, merges, minimizes, cleanses); started by its own supervisor it
/// is an executor, which owns the kcov device and runs the target. <c>Run</c> also sets
/// <see cref="Environment.ExitCode"/>, so a harness whose Main ignores the result (a top-level
/// <c>Fuzzer.Run(args, Target);</c>) still exits with libFuzzer's code for what was found.
/// </summary>
public static class Fuzzer
{
    /// <summary>Fuzzes a synchronous target; returns the process exit code.</summary>
    public static int Run(string[] args, Action<ReadOnlySpan<byte>> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Run(args, FuzzTarget.From(target));
    }

    /// <summary>
    /// Fuzzes an async target; returns the process exit code. Its coverage is collected through a
    /// kcov remote section under a common handle, so every await and child task is covered,
    /// whichever thread it runs on.
    /// </summary>
    public static int Run(string[] args, Func<ReadOnlyMemory<byte>, Task> target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Run(args, FuzzTarget.From(target));
    }

    /// <summary>
    /// Fuzzes a running HTTP service (ASP.NET Core with Kcov.AspNetCore, its control endpoint on):
    /// each input is the body of a request; the signal is the coverage of that request and of the
    /// work it queued, read from the service's device over the control endpoint. Returns the exit code.
    /// </summary>
    public static int Run(string[] args, HttpFuzzTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return Run(args, new Service.HttpTarget(target));
    }

    internal static int Run(string[] args, FuzzTarget target)
    {
        int exitCode = RunMode(args, target);
        Environment.ExitCode = exitCode;
        return exitCode;
    }

    private static int RunMode(string[] args, FuzzTarget target)
    {
        ArgumentNullException.ThrowIfNull(args);
        string program = Path.GetFileName(Environment.GetCommandLineArgs()[0]);
        try
        {
            var options = FuzzerFlags.Parse(args, out var warnings);
            if (options.Unique > 0 && target.Remote)
                throw new FuzzerUsageException($"-kcov_unique={options.Unique} needs a synchronous target: an async target is collected through remote sections, which cannot use kcov's unique mode; drop the flag");
            string? executorSpec = Environment.GetEnvironmentVariable(ExecutorMain.EnvironmentVariable);
            if (executorSpec is not null)
                return ExecutorMain.Run(options, target, executorSpec);
            if (CorpusCoverage.InputList is { } inputList)
                return CorpusCoverage.Run(options, target, inputList);
            foreach (var line in warnings.Concat(options.Notes))
                Console.Error.WriteLine(line);
            if (options.Help)
            {
                Console.Out.Write(FuzzerFlags.Help(program));
                return 0;
            }
            // Checked here, once, so a bad file or service is one line and not an executor that fails to start.
            target.Check();
            if (options.DictionaryPath.Length > 0)
                Console.Error.WriteLine($"INFO: dictionary: {Mutation.TokenDictionary.Parse(options.DictionaryPath).Count} entries");
            var files = options.Positional.Where(File.Exists).ToList();
            var directories = options.Positional.Where(p => !File.Exists(p)).ToList();
            if (options.MinimizeCrash || options.CleanseCrash)
            {
                string flag = options.MinimizeCrash ? "-minimize_crash=1" : "-cleanse_crash=1";
                if (files.Count != 1)
                    throw new FuzzerUsageException($"{flag} needs exactly one crashing input file as argument");
                if (options.CleanseCrash && options.ExactArtifactPath.Length == 0)
                    throw new FuzzerUsageException("-cleanse_crash=1 needs -exact_artifact_path=FILE for the cleansed input");
                return new MinimizeCampaign(options, files[0]).Run();
            }
            if (options.Merge)
                return new MergeCampaign(options, directories).Run();
            if (files.Count > 0)
            {
                if (directories.Count > 0)
                    throw new FuzzerUsageException($"'{directories[0]}' is not a file; give either input files (reproduce) or corpus directories (fuzz), not both");
                return Reproducer.UnderKcovRun
                    ? Reproducer.Run(options, target, files)
                    : new ReproduceCampaign(options, files).Run();
            }
            return new FuzzCampaign(options, directories).Run();
        }
        catch (FuzzerUsageException e)
        {
            Console.Error.WriteLine($"ERROR: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A corpus or artifact path that cannot be written, a full disk: the user's to fix.
            Console.Error.WriteLine($"ERROR: {e.Message} Check the corpus and artifact paths, their permissions and free space.");
            return 1;
        }
    }
}
