using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Files as arguments (libFuzzer's reproduce mode, which ClusterFuzz uses to reproduce, to check a
/// minimized input and to prune a corpus): an executor runs each file -runs times (at least once)
/// under the same watchdog as a campaign, so that -timeout and -rss_limit_mb hold and a stack
/// overflow, a FailFast or an exception on another thread gets the campaign's report with the
/// last blocks run. The first finding is saved as an artifact, as libFuzzer does, and ends the run
/// with the exit code for its kind.
/// </summary>
internal sealed class ReproduceCampaign(FuzzerOptions options, IReadOnlyList<string> files)
{
    public int Run()
    {
        var status = new StatusPrinter(options.Verbosity);
        var artifacts = new Artifacts(options, status);
        var inputs = files.Select(CorpusDirectory.ReadInput).ToList();
        int repeats = (int)Math.Clamp(options.Runs, 1, int.MaxValue);
        status.Info(InstrumentedModules.LoadedLine(AppContext.BaseDirectory));
        Console.Error.WriteLine($"INFO: running {files.Count} inputs {repeats} time(s) each.");
        int next = 0;
        using (var pool = new ExecutorPool(options, 1, Math.Max(1, inputs.Max(i => i.Length)), runsLimit: -1))
        {
            Console.Error.WriteLine($"Running: {files[0]}");
            pool.Start(0, StartMessage(inputs, next));
            foreach (var e in pool.Events(() => { }))
            {
                if (e.Message?.Kind == MessageKind.InputDone)
                {
                    Console.Error.WriteLine($"Executed {files[(int)e.Message.Numbers[0]]} in {e.Message.Numbers[1]} ms");
                    next = (int)e.Message.Numbers[0] + 1;
                    if (next < files.Count)
                        Console.Error.WriteLine($"Running: {files[next]}");
                }
                else if (e.Message?.Kind == MessageKind.Crash)
                {
                    artifacts.Save((Crashes.ArtifactKind)e.Message.Numbers[0], e.Message.Detail, e.Message.Input, e.Message.Text, e.Message.Numbers[1]);
                }
                else if (e.Death is not null)
                {
                    if (e.DeathInput is null)
                        throw new FuzzerUsageException($"the executor died outside of any input ({e.Death.Title}); the harness itself fails");
                    artifacts.Save(e.Death.Kind, e.Death.DedupKey, e.DeathInput, e.Death.Render(e.DeathInput), pool.Block.TotalExecs);
                }
            }
        }
        if (artifacts.Written.Count > 0)
            return artifacts.ExitCode;
        Console.Error.WriteLine("***");
        Console.Error.WriteLine("*** NOTE: fuzzing was not performed, you have only");
        Console.Error.WriteLine("***       executed the target code on a fixed set of inputs.");
        Console.Error.WriteLine("***");
        return 0;
    }

    private static Message StartMessage(List<byte[]> inputs, int from) => new()
    {
        Kind = MessageKind.Start,
        Numbers = [(long)ExecutorMode.Reproduce, 0, 0, from],
        Inputs = inputs,
    };
}
