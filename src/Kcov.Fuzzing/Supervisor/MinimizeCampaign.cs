using Kcov.Coverage;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// -minimize_crash=1 FILE and -cleanse_crash=1 FILE: finds the crash's signature, then lets
/// executors try variants (smaller inputs; inputs with bytes replaced by ' ' or 0xff) and keeps
/// the best one that fails with the same signature, within -runs attempts and -max_total_time
/// seconds. A managed crash is judged in the executor; one that kills the executor is judged here
/// from the input left in the control block and the runtime's last words. Writes
/// -exact_artifact_path, else minimized-from-&lt;sha1&gt; under -artifact_prefix.
/// </summary>
internal sealed class MinimizeCampaign(FuzzerOptions options, string inputPath)
{
    private const long DefaultAttempts = 10_000;

    private bool Cleanse => options.CleanseCrash;
    private string Tag => Cleanse ? "CLEANSE" : "CRASH_MIN";

    public int Run()
    {
        var status = new StatusPrinter(options.Verbosity);
        byte[] original = CorpusDirectory.ReadInput(inputPath);
        byte[] best = original;
        string signature = "";
        string reportText = "";
        int position = 0;
        long attempts = options.Runs >= 0 ? options.Runs : Cleanse ? original.Length * 2L + 1 : DefaultAttempts;
        uint seed = options.Seed != 0 ? options.Seed : (uint)Random.Shared.Next(1, int.MaxValue);
        status.Info($"Seed: {seed}");
        status.Info(Cleanse
            ? $"CLEANSE: cleansing crash input: '{inputPath}' ({original.Length} bytes)"
            : $"CRASH_MIN: minimizing crash input: '{inputPath}' ({original.Length} bytes), at most {attempts} attempts");

        using (var pool = new ExecutorPool(options, 1, Math.Max(1, original.Length), attempts + 1))
        {
            int restarts = 0;
            bool timeUp = false;
            pool.Start(0, StartMessage(best, signature, seed, position));
            foreach (var e in pool.Events(() => timeUp = StopAtMaxTotalTime(pool, status)))
            {
                if (e.Message?.Kind == MessageKind.MinimizeBest)
                {
                    if (signature.Length == 0)
                        status.Info($"{Tag}: signature: {e.Message.Detail}");
                    else
                        status.Info($"{Tag}: {Describe(e.Message.Input, best)} still crash the same way");
                    signature = e.Message.Detail;
                    best = e.Message.Input;
                    reportText = e.Message.Text;
                    position = (int)e.Message.Numbers[0];
                }
                else if (e.Death is not null)
                {
                    if (e.DeathInput is null)
                        throw new FuzzerUsageException($"the executor died outside of any input ({e.Death.Title}); the harness itself fails, run it on '{inputPath}' to see why");
                    if (signature.Length == 0)
                    {
                        signature = e.Death.DedupKey;
                        reportText = e.Death.Render(best);
                        status.Info($"{Tag}: signature: {signature}");
                    }
                    else
                    {
                        bool same = e.Death.DedupKey == signature;
                        position = Cleanse ? NextPosition(best, e.DeathInput, same, position) : position;
                        if (same && (Cleanse || e.DeathInput.Length < best.Length))
                        {
                            status.Info($"{Tag}: {Describe(e.DeathInput, best)} still crash the same way");
                            best = e.DeathInput;
                            reportText = e.Death.Render(best);
                        }
                    }
                    bool more = Cleanse ? position < best.Length * 2 : best.Length > 0;
                    if (more && !timeUp && pool.Block.TotalExecs < attempts + 1)
                        pool.Start(0, StartMessage(best, signature, seed + (uint)++restarts, position));
                }
            }
        }
        if (signature.Length == 0)
            throw new FuzzerUsageException($"'{inputPath}' does not crash the target; there is nothing to {(Cleanse ? "cleanse" : "minimize")}");

        string path = options.ExactArtifactPath.Length > 0
            ? options.ExactArtifactPath
            : $"{options.ArtifactPrefix}minimized-from-{CorpusDirectory.Sha1(original)}";
        AtomicFile.WriteAllBytes(path, best);
        Console.Error.Write(reportText);
        status.Info(Cleanse
            ? $"CLEANSE: replaced {original.Zip(best).Count(p => p.First != p.Second)} of {original.Length} bytes, signature {signature}"
            : $"CRASH_MIN: minimized {original.Length} -> {best.Length} bytes, signature {signature}");
        status.Info($"{Tag}: written to {path}; reproduce with the harness and this file as its argument");
        return 0;
    }

    /// <summary>-max_total_time bounds the whole run; the current attempt ends first.</summary>
    private bool StopAtMaxTotalTime(ExecutorPool pool, StatusPrinter status)
    {
        if (options.MaxTotalTimeSeconds <= 0 || status.Elapsed.TotalSeconds < options.MaxTotalTimeSeconds)
            return false;
        pool.RequestStop();
        return true;
    }

    private string Describe(byte[] input, byte[] best) =>
        Cleanse ? $"{input.Zip(best).Count(p => p.First != p.Second)} more cleansed byte(s)" : $"{input.Length} bytes";

    /// <summary>
    /// After a cleanse candidate killed the executor: where to go on. The candidate differs from
    /// the best input in one byte; a kept replacement goes on with the next byte, a failed one
    /// with the next filler of the same byte (see <see cref="CrashMinimizer.Cleanse"/>).
    /// </summary>
    private static int NextPosition(byte[] best, byte[] candidate, bool kept, int position)
    {
        int at = Enumerable.Range(0, Math.Min(best.Length, candidate.Length)).FirstOrDefault(i => best[i] != candidate[i], -1);
        if (at < 0)
            return position + 1;
        return kept ? (at + 1) * 2 : at * 2 + (candidate[at] == (byte)' ' ? 1 : 2);
    }

    private Message StartMessage(byte[] best, string signature, uint seed, int position) => new()
    {
        Kind = MessageKind.Start,
        Numbers = [(long)(Cleanse ? ExecutorMode.Cleanse : ExecutorMode.Minimize), unchecked((int)seed), 0, position],
        Input = best,
        Text = signature,
    };
}
