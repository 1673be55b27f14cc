using Kcov.Coverage;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// -minimize_crash=1 FILE: finds the crash's signature, then lets executors try smaller inputs
/// (within -runs attempts) and keeps the smallest one that fails with the same signature. A
/// managed crash is judged in the executor; one that kills the executor is judged here from the
/// input left in the control block and the runtime's last words. Writes minimized-from-&lt;sha1&gt;.
/// </summary>
internal sealed class MinimizeCampaign(FuzzerOptions options, string inputPath)
{
    private const long DefaultAttempts = 10_000;

    public int Run()
    {
        var status = new StatusPrinter(options.Verbosity);
        byte[] original = CorpusDirectory.ReadInput(inputPath);
        byte[] best = original;
        string signature = "";
        string reportText = "";
        long attempts = options.Runs >= 0 ? options.Runs : DefaultAttempts;
        uint seed = options.Seed != 0 ? options.Seed : (uint)Random.Shared.Next(1, int.MaxValue);
        status.Info($"Seed: {seed}");
        status.Info($"CRASH_MIN: minimizing crash input: '{inputPath}' ({original.Length} bytes), at most {attempts} attempts");

        using (var pool = new ExecutorPool(options, 1, Math.Max(1, original.Length), attempts + 1))
        {
            int restarts = 0;
            pool.Start(0, StartMessage(best, signature, seed));
            foreach (var e in pool.Events(() => { }))
            {
                if (e.Message?.Kind == MessageKind.MinimizeBest)
                {
                    if (signature.Length == 0)
                        status.Info($"CRASH_MIN: signature: {e.Message.Detail}");
                    else
                        status.Info($"CRASH_MIN: {e.Message.Input.Length} bytes still crash the same way");
                    signature = e.Message.Detail;
                    best = e.Message.Input;
                    reportText = e.Message.Text;
                }
                else if (e.Death is not null)
                {
                    if (e.DeathInput is null)
                        throw new FuzzerUsageException($"the executor died outside of any input ({e.Death.Title}); the harness itself fails, run it on '{inputPath}' to see why");
                    if (signature.Length == 0)
                    {
                        signature = e.Death.DedupKey;
                        reportText = e.Death.Render(best);
                        status.Info($"CRASH_MIN: signature: {signature}");
                    }
                    else if (e.Death.DedupKey == signature && e.DeathInput.Length < best.Length)
                    {
                        best = e.DeathInput;
                        reportText = e.Death.Render(best);
                        status.Info($"CRASH_MIN: {best.Length} bytes still crash the same way");
                    }
                    if (best.Length > 0 && pool.Block.TotalExecs < attempts + 1)
                        pool.Start(0, StartMessage(best, signature, seed + (uint)++restarts));
                }
            }
        }
        if (signature.Length == 0)
            throw new FuzzerUsageException($"'{inputPath}' does not crash the target; there is nothing to minimize");

        string path = options.ExactArtifactPath.Length > 0
            ? options.ExactArtifactPath
            : $"{options.ArtifactPrefix}minimized-from-{CorpusDirectory.Sha1(original)}";
        AtomicFile.WriteAllBytes(path, best);
        Console.Error.Write(reportText);
        status.Info($"CRASH_MIN: minimized {original.Length} -> {best.Length} bytes, signature {signature}");
        status.Info($"CRASH_MIN: written to {path}; reproduce with the harness and this file as its argument");
        return 0;
    }

    private static Message StartMessage(byte[] best, string signature, uint seed) => new()
    {
        Kind = MessageKind.Start,
        Numbers = [(long)ExecutorMode.Minimize, unchecked((int)seed), 0, 0],
        Input = best,
        Text = signature,
    };
}
