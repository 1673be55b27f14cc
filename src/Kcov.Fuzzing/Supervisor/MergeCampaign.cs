using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// -merge=1 OUT IN...: every input of IN that adds signal to what OUT already has is copied into
/// OUT, smallest first, so OUT ends with a subset of the inputs with the same total signal. An
/// executor computes the features (an input that kills it is skipped, the next executor goes on
/// after it); the supervisor chooses and writes.
/// </summary>
internal sealed class MergeCampaign(FuzzerOptions options, IReadOnlyList<string> directories)
{
    public int Run()
    {
        if (directories.Count < 2)
            throw new FuzzerUsageException("-merge=1 needs an output corpus directory and at least one input directory: -merge=1 OUT IN [IN...]");
        if (directories.Skip(1).FirstOrDefault(d => !Directory.Exists(d)) is { } missing)
            throw new FuzzerUsageException($"-merge=1: input directory '{missing}' does not exist");
        var status = new StatusPrinter(options.Verbosity);
        string output = directories[0];
        Directory.CreateDirectory(output);
        var existing = CorpusDirectory.Load([output], 0, out _);
        var known = existing.Select(i => CorpusDirectory.Sha1(i)).ToHashSet();
        var candidates = CorpusDirectory.Load(directories.Skip(1), 0, out int files)
            .Where(i => !known.Contains(CorpusDirectory.Sha1(i)))
            .OrderBy(i => i.Length)
            .ToList();
        var inputs = existing.Concat(candidates).ToList();
        status.Info($"merge: {existing.Count} inputs in {output}, {candidates.Count} new inputs ({files} files) in the other directories");
        int maxLen = Math.Max(1, inputs.Count == 0 ? 1 : inputs.Max(i => i.Length));
        var features = new uint[inputs.Count][];

        using (var pool = new ExecutorPool(options, 1, maxLen, runsLimit: -1))
        {
            int next = 0;
            pool.Start(0, StartMessage(inputs, next));
            foreach (var e in pool.Events(() => { }))
            {
                if (e.Message?.Kind == MessageKind.MergeFeatures)
                {
                    long index = e.Message.Numbers[0];
                    // Inputs are run in order from `next`: any other index is not the executor's answer.
                    if (index < next || index >= inputs.Count)
                    {
                        ExecutorPool.Reject(e.Executor, $"features of input {index}, expected {next}..{inputs.Count - 1}");
                        continue;
                    }
                    features[index] = e.Message.Features;
                    next = (int)index + 1;
                }
                else if (e.Death is not null && e.DeathInput is null)
                {
                    throw new FuzzerUsageException($"the executor died outside of any input ({e.Death.Title}); the harness itself fails, run it on one input file to see why");
                }
                else if (e.Death is not null && next < inputs.Count)
                {
                    status.Info($"merge: input {next} ({inputs[next].Length} bytes) killed the executor ({e.Death.Title}); skipped");
                    features[next] = [];
                    next++;
                    if (next < inputs.Count)
                        pool.Start(0, StartMessage(inputs, next));
                }
            }
        }

        var seen = new HashSet<uint>();
        for (int i = 0; i < existing.Count; i++)
            seen.UnionWith(features[i] ?? []);
        int before = seen.Count, added = 0;
        for (int i = existing.Count; i < inputs.Count; i++)
        {
            int size = seen.Count;
            seen.UnionWith(features[i] ?? []);
            if (seen.Count == size)
                continue;
            CorpusDirectory.Save(output, inputs[i]);
            added++;
        }
        var all = features.Where(f => f is not null).SelectMany(f => f).ToHashSet();
        Console.Error.WriteLine($"MERGE-OUTER: {added} new files with {seen.Count - before} new features added; {output} has the signal of all inputs: {seen.Count} of {all.Count} features");
        return 0;
    }

    private static Message StartMessage(List<byte[]> inputs, int from) => new()
    {
        Kind = MessageKind.Start,
        Numbers = [(long)ExecutorMode.Merge, 0, 0, from],
        Inputs = inputs,
    };
}
