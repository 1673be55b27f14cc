using Kcov.Coverage;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Feedback;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// -merge=1 OUT IN...: every input of IN that adds signal to what OUT already has is copied into
/// OUT, smallest first, so OUT ends with a subset of the inputs with the same total signal; the
/// last line is libFuzzer's <c>MERGE-OUTER: N new files with F new features added; E new coverage edges</c>,
/// counted against what OUT had. An executor computes the features; an input that crashes, hangs
/// or runs out of memory is reported, saved under -artifact_prefix, brings no signal, and the
/// merge goes on after it. Progress goes to libFuzzer's control file (-merge_control_file, else a
/// temporary one): a merge killed half way goes on from it, and a merge whose inputs changed
/// reuses the features of the inputs it lists.
/// </summary>
internal sealed class MergeCampaign(FuzzerOptions options, IReadOnlyList<string> directories)
{
    private StatusPrinter _status = null!;
    private Artifacts _artifacts = null!;

    public int Run()
    {
        if (directories.Count < 2)
            throw new FuzzerUsageException("-merge=1 needs an output corpus directory and at least one input directory: -merge=1 OUT IN [IN...]");
        if (directories.Skip(1).FirstOrDefault(d => !Directory.Exists(d)) is { } missing)
            throw new FuzzerUsageException($"-merge=1: input directory '{missing}' does not exist");
        _status = new StatusPrinter(options.Verbosity);
        _artifacts = new Artifacts(options, _status);
        string output = directories[0];
        Directory.CreateDirectory(output);
        _status.Info(InstrumentedModules.LoadedLine(AppContext.BaseDirectory));

        bool temporary = options.MergeControlFile.Length == 0;
        string path = temporary ? Path.Combine(Path.GetTempPath(), $"kcov-merge-{Environment.ProcessId}-{Guid.NewGuid():N}.txt") : options.MergeControlFile;
        try
        {
            return Merge(output, path);
        }
        finally
        {
            if (temporary)
                File.Delete(path);
        }
    }

    private int Merge(string output, string path)
    {
        var old = Listing([output], []);
        var candidates = Listing(directories.Skip(1), old.Select(f => f.Sha1).ToHashSet());
        List<MergeFile> known = [];
        MergeControlFile control;
        if (MergeControlFile.TryRead(path) is { } previous && (previous.Complete || previous.Started > 0))
        {
            if (!previous.Complete)
            {
                Console.Error.WriteLine($"MERGE-OUTER: control file ok, {previous.Files.Count} files total, first not processed file {previous.Started}");
                control = previous;
            }
            else if (previous.Files.Count == old.Count + candidates.Count)
            {
                Console.Error.WriteLine("MERGE-OUTER: nothing to do, merge has been completed before");
                return 0;
            }
            else
            {
                Console.Error.WriteLine("MERGE-OUTER: starting merge from scratch, but reusing coverage information from the given control file");
                known = [.. previous.Results.Select(r => new MergeFile(previous.Files[r.Key], previous.Sizes[r.Key], "", r.Value.Features, r.Value.Cov))];
                var skip = known.Select(k => k.Path).ToHashSet();
                old.RemoveAll(f => skip.Contains(f.Path));
                candidates.RemoveAll(f => skip.Contains(f.Path));
                control = MergeControlFile.Create(path, [.. old.Select(f => f.Path), .. candidates.Select(f => f.Path)], old.Count);
            }
        }
        else
        {
            control = MergeControlFile.Create(path, [.. old.Select(f => f.Path), .. candidates.Select(f => f.Path)], old.Count);
        }
        using (control)
        {
            Console.Error.WriteLine($"MERGE-OUTER: {control.Files.Count} files, {control.InFirstCorpus} in the initial corpus, {control.Started + known.Count} processed earlier");
            if (control.LastFailed)
                Console.Error.WriteLine($"MERGE-OUTER: '{control.Files[control.Started - 1]}' will be skipped as unlucky (merge has stumbled on it the last time)");
            RunInputs(control);
            return Choose(output, control, known);
        }
    }

    /// <summary>Runs the inputs the control file has not started yet; each result goes into it.</summary>
    private void RunInputs(MergeControlFile control)
    {
        if (control.Complete)
            return;
        var inputs = control.Files.Select((f, i) => i < control.Started ? [] : ReadListed(f)).ToList();
        int maxLen = Math.Max(1, inputs.Max(i => i.Length));
        using var pool = new ExecutorPool(options, 1, maxLen, runsLimit: -1);
        bool crashed = false;
        pool.Start(0, StartMessage(inputs, control.Started));
        foreach (var e in pool.Events(() => { }))
        {
            if (e.Message?.Kind == MessageKind.Crash)
            {
                crashed = true;
                _artifacts.Save((Crashes.ArtifactKind)e.Message.Numbers[0], e.Message.Detail, e.Message.Input, e.Message.Text, e.Message.Numbers[1], everyInput: true);
            }
            else if (e.Message?.Kind == MessageKind.MergeFeatures)
            {
                long index = e.Message.Numbers[0];
                // Inputs are run in order from the first not started: any other index is not the executor's answer.
                if (index != control.Started)
                {
                    ExecutorPool.Reject(e.Executor, $"features of input {index}, expected {control.Started}");
                    continue;
                }
                var features = e.Message.Features;
                control.Append((int)index, inputs[(int)index].Length, crashed ? null : features, [.. features.Where(Signal.IsPcFeature)]);
                crashed = false;
            }
            else if (e.Death is not null && e.DeathInput is null)
            {
                throw new FuzzerUsageException($"the executor died outside of any input ({e.Death.Title}); the harness itself fails, run it on one input file to see why");
            }
            else if (e.Death is not null)
            {
                int index = control.Started;
                _artifacts.Save(e.Death.Kind, e.Death.DedupKey, e.DeathInput!, e.Death.Render(e.DeathInput!), pool.Block.TotalExecs, everyInput: true);
                control.Append(index, inputs[index].Length, null, []);
                if (!control.Complete)
                    pool.Start(0, StartMessage(inputs, control.Started));
            }
        }
    }

    /// <summary>libFuzzer's choice: the first corpus's features, then each other input, smallest first, that adds some.</summary>
    private int Choose(string output, MergeControlFile control, List<MergeFile> known)
    {
        var features = new HashSet<uint>();
        var oldCov = new HashSet<uint>();
        var others = new List<MergeFile>(known);
        foreach (var (index, result) in control.Results)
        {
            if (index < control.InFirstCorpus)
            {
                features.UnionWith(result.Features);
                oldCov.UnionWith(result.Cov);
            }
            else
            {
                others.Add(new MergeFile(control.Files[index], control.Sizes[index], "", result.Features, result.Cov));
            }
        }
        var newCov = new HashSet<uint>();
        int before = features.Count, added = 0;
        foreach (var file in others.OrderBy(f => f.Size).ThenByDescending(f => f.Features.Length))
        {
            newCov.UnionWith(file.Cov.Where(pc => !oldCov.Contains(pc)));
            int size = features.Count;
            features.UnionWith(file.Features);
            if (features.Count == size)
                continue;
            if (!File.Exists(file.Path))
            {
                _status.Info($"merge: '{file.Path}' adds signal but no longer exists; not copied");
                continue;
            }
            CorpusDirectory.Save(output, CorpusDirectory.ReadInput(file.Path));
            added++;
        }
        Console.Error.WriteLine($"MERGE-OUTER: {added} new files with {features.Count - before} new features added; {newCov.Count} new coverage edges");
        return 0;
    }

    /// <summary>The files of <paramref name="dirs"/>, smallest first, without contents already listed or in <paramref name="exclude"/>.</summary>
    private static List<MergeFile> Listing(IEnumerable<string> dirs, HashSet<string> exclude)
    {
        var files = new List<MergeFile>();
        var seen = new HashSet<string>(exclude);
        foreach (var dir in dirs)
        {
            if (!Directory.Exists(dir))
                continue;
            foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => !Path.GetFileName(f).StartsWith('.')))
            {
                byte[] data = CorpusDirectory.ReadInput(file);
                string sha1 = CorpusDirectory.Sha1(data);
                if (seen.Add(sha1))
                    files.Add(new MergeFile(file, data.Length, sha1, [], []));
            }
        }
        return [.. files.OrderBy(f => f.Size).ThenBy(f => f.Path, StringComparer.Ordinal)];
    }

    private static byte[] ReadListed(string path) =>
        File.Exists(path) ? CorpusDirectory.ReadInput(path)
        : throw new FuzzerUsageException($"the merge control file lists '{path}', which no longer exists; delete the control file to start the merge over");

    private static Message StartMessage(List<byte[]> inputs, int from) => new()
    {
        Kind = MessageKind.Start,
        Numbers = [(long)ExecutorMode.Merge, 0, 0, from],
        Inputs = inputs,
    };
}
