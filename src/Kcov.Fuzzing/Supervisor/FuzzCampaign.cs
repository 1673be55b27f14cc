using System.Globalization;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// The supervisor of a fuzzing campaign: starts the executors with the corpus, saves what they
/// report (corpus inputs into the first corpus directory, findings as artifacts), restarts an
/// executor that died, and stops at -runs or -max_total_time, or, as libFuzzer does, at the
/// first finding unless -ignore_crashes/-ignore_timeouts/-ignore_ooms lets it go on. It never
/// runs the target itself, so nothing the target does can take the corpus or the artifacts down with it.
/// <para>
/// The campaign's state lives here and survives executor restarts: the corpus and which inputs had
/// their hints pass, the length limit, the dictionary of compared values, the inputs that killed an
/// executor (never run again), the corpus inputs whose children hang, and the statistics. Each
/// restart and each repeated finding prints one line.
/// </para>
/// </summary>
internal sealed class FuzzCampaign(FuzzerOptions options, IReadOnlyList<string> corpusDirectories)
{
    private const int MaxDeathsBetweenInputs = 3;

    /// <summary>libFuzzer's error for a campaign whose initial corpus covered nothing, with the fix.</summary>
    internal const string NotInstrumented = "no interesting inputs were found. Is the code instrumented for coverage? " +
        "Run the harness with `dotnet kcov fuzz Harness.dll`, or instrument its targets with `dotnet kcov instrument --trace pc,cmp`.";

    private StatusPrinter _status = null!;
    private Artifacts _artifacts = null!;
    private readonly HashSet<string> _known = [];
    /// <summary>Corpus files this campaign wrote: the only ones -reduce_inputs=1 may remove (never a seed).</summary>
    private readonly HashSet<string> _saved = [];
    private readonly HashSet<string> _poison = [];
    private readonly List<byte[]> _corpus = [];
    /// <summary>Inputs that killed an executor: sent to every new executor, which never runs them.</summary>
    private readonly List<byte[]> _killers = [];
    private readonly HashSet<string> _hintsDone = [];
    private readonly List<byte[]> _compared = [];
    private readonly HashSet<string> _comparedSeen = [];
    private readonly HashSet<ulong> _hangParents = [];
    /// <summary>Per slot: an input killed at the short timeout, to run first under -timeout.</summary>
    private readonly Dictionary<int, byte[]> _probes = [];
    private int _lengthLimit;
    private long _hangs, _hangsCutEarly, _repeated, _killerReplays;
    private readonly List<string> _finalStats = [];
    /// <summary>Area overflows per slot as its executor last reported them, and those of executors that ended.</summary>
    private readonly Dictionary<int, long> _overflows = [];
    private long _overflowsOfEnded;
    private long TotalOverflows => _overflowsOfEnded + _overflows.Values.Sum();
    private FuzzStats _latest;
    private int _newInputs;
    private int _restartCount;

    /// <summary>A finding no -ignore_* flag covers was saved: the campaign is ending, later findings are not saved.</summary>
    private bool _stopping;

    public int Run()
    {
        int exitCode;
        using (var live = UseLiveView(options) ? new LiveView(Console.Error, "Kcov.Fuzzing") : null)
        {
            _status = new StatusPrinter(options.Verbosity, live);
            _artifacts = new Artifacts(options, _status);
            exitCode = Campaign(forwardOutput: live is null);
        }
        foreach (var line in _finalStats)
            Console.Error.WriteLine(line);
        return exitCode;
    }

    private int Campaign(bool forwardOutput)
    {
        uint seed = options.Seed != 0 ? options.Seed : (uint)Random.Shared.Next(1, int.MaxValue);
        _status.Info($"Seed: {seed}");
        _status.Info(InstrumentedModules.LoadedLine(AppContext.BaseDirectory));
        var seeds = CorpusDirectory.Load(corpusDirectories, 0, out _);
        for (int i = 0; i < corpusDirectories.Count; i++)
        {
            string dir = corpusDirectories[i];
            if (Directory.Exists(dir))
                // Not the dot-files of writes cut short (AtomicFile), which Load skips too.
                _status.Info($"{Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Count(f => !Path.GetFileName(f).StartsWith('.'))} files found in {dir}");
            else if (i == 0)
            {
                // New inputs go to the first directory, so it is made; a misspelt path must not go unnoticed.
                Directory.CreateDirectory(dir);
                _status.Info($"corpus directory '{dir}' did not exist; created it (new inputs are saved there)");
            }
            else
                _status.Info($"corpus directory '{dir}' does not exist; no inputs read from it");
        }
        int maxLen = options.MaxLen > 0 ? options.MaxLen : Math.Max(4096, seeds.Count == 0 ? 0 : seeds.Max(s => s.Length));
        if (options.MaxLen == 0)
            _status.Info($"-max_len is not provided; libFuzzer will not generate inputs larger than {maxLen} bytes");
        foreach (var s in seeds)
            if (_known.Add(CorpusDirectory.Sha1(s)))
                _corpus.Add(s);

        using var pool = new ExecutorPool(options, options.ExecutorCount, maxLen, options.Runs, forwardOutput);
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; pool.RequestStop(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            if (options.Fork > 0)
                _status.Info($"-fork={options.Fork}: fuzzing in separate process(s)");
            for (int slot = 0; slot < options.ExecutorCount; slot++)
                pool.Start(slot, StartMessage(seed, slot, maxLen));
            int deathsBetweenInputs = 0;
            foreach (var e in pool.Events(() => Tick(pool)))
            {
                if (e.Message is not null)
                {
                    Handle(pool, e);
                    continue;
                }
                if (e.Parked is not null)
                {
                    // A hanging input left without a restart: a finding like a death's, and the executor goes on.
                    OnDeath(pool, e, pool.Block.TotalExecs);
                    continue;
                }
                _overflowsOfEnded += _overflows.GetValueOrDefault(e.Executor.Slot);
                _overflows[e.Executor.Slot] = 0;
                if (e.Death is not null)
                {
                    deathsBetweenInputs = e.DeathInput is null && e.Executor.Killed != KillReason.Stop ? deathsBetweenInputs + 1 : 0;
                    if (deathsBetweenInputs >= MaxDeathsBetweenInputs)
                        throw new FuzzerUsageException($"the executor keeps dying outside of any input ({e.Death.Title}); the harness itself fails, run it on one input file to see why");
                    OnDeath(pool, e, pool.Block.TotalExecs);
                    if (!_stopping && !pool.StopRequested && (options.Runs < 0 || pool.Block.TotalExecs < options.Runs))
                    {
                        _restartCount++;
                        pool.Start(e.Executor.Slot, StartMessage(seed, e.Executor.Slot, maxLen));
                        _status.Info($"executor {e.Executor.Slot} restarted after {Why(e.Executor.Killed, e.Death)} (restart {pool.Restarts})");
                    }
                }
            }
            long execs = pool.Block.TotalExecs;
            _status.Line(execs, "DONE", _latest, pool.PeakRssMb);
            _status.Plain($"Done {execs} runs in {(long)_status.Elapsed.TotalSeconds} second(s)");
            if (options.PrintFinalStats)
                PrintFinalStats(pool, execs);
            return _artifacts.ExitCode;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>The live view replaces status lines when a person watches: stderr is a terminal.</summary>
    private static bool UseLiveView(FuzzerOptions options) =>
        options.Verbosity > 0 && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");

    private Message StartMessage(uint seed, int slot, int maxLen)
    {
        var inputs = _corpus.Where(c => !_poison.Contains(CorpusDirectory.Sha1(c))).ToList();
        _probes.Remove(slot, out var probe);
        return new Message
        {
            Kind = MessageKind.Start,
            // Each executor, and each restart of it, draws from its own deterministic stream.
            // The last number: whether -runs bounds the corpus inputs too. The first executors run the
            // whole initial corpus, as libFuzzer does; a restarted one only re-runs the corpus to rebuild its state.
            Numbers = [(long)ExecutorMode.Fuzz, unchecked((int)(seed + 7919u * (uint)slot + 104729u * (uint)_restartCount)), maxLen, 0, _lengthLimit,
                _restartCount > 0 ? 1 : 0],
            Inputs = inputs,
            Flags = [.. inputs.Select(i => (byte)((_hintsDone.Contains(CorpusDirectory.Sha1(i)) ? 1 : 0) | (_hangParents.Contains(Mutation.CmpHints.Hash(i)) ? 2 : 0)))],
            Tokens = _compared,
            Hangs = _killers,
            Input = probe ?? [],
        };
    }

    private static string Why(KillReason killed, Crashes.CrashReport? death) => killed switch
    {
        KillReason.Timeout => "a timeout",
        KillReason.ShortTimeout => "the short timeout",
        KillReason.KnownHang => "a known hang (cut early)",
        KillReason.Rss => "reaching -rss_limit_mb",
        _ => death is null ? "its end" : $"a {death.KindName}",
    };

    private void Handle(ExecutorPool pool, PoolEvent e)
    {
        var m = e.Message!;
        if (m.Kind is MessageKind.NewInput or MessageKind.Stats or MessageKind.Inited or MessageKind.Done)
        {
            _lengthLimit = Math.Max(_lengthLimit, m.Stats.LengthLimit);
            if (m.Stats.Overflows > 0 && TotalOverflows == 0)
                _status.Info($"the kcov area ({options.AreaWords} words) filled up during an input: blocks after that were not seen; raise -kcov_area_words");
            _overflows[e.Executor.Slot] = m.Stats.Overflows;
        }
        switch (m.Kind)
        {
            case MessageKind.NewInput:
                _latest = m.Stats;
                // Another executor (or an earlier life of this one) may have found it already.
                if (_known.Add(CorpusDirectory.Sha1(m.Input)))
                {
                    _corpus.Add(m.Input);
                    _newInputs++;
                    if (corpusDirectories.Count > 0)
                    {
                        string sha1 = CorpusDirectory.Sha1(m.Input);
                        if (!File.Exists(Path.Combine(corpusDirectories[0], sha1)))
                            _saved.Add(sha1);
                        string path = CorpusDirectory.Save(corpusDirectories[0], m.Input);
                        if (options.Verbosity >= 2)
                            _status.Info($"saved {path}");
                    }
                    Drop(m.Inputs);
                    if (options.ExecutorCount > 1)
                        pool.Broadcast(new Message { Kind = MessageKind.AddInput, Input = m.Input }, e.Executor);
                    _status.Line(m.Stats.Execs, m.Text, m.Stats, e.Executor.RssMb(),
                        $" L: {m.Input.Length}/{pool.Block.MaxLen} MS: {m.Detail.Count(c => c == '-')} {m.Detail}");
                }
                break;
            case MessageKind.Crash:
                Found(pool, (Crashes.ArtifactKind)m.Numbers[0], m.Detail, m.Detail, m.Input, m.Text + ParkedNote(e.Executor), m.Numbers[1]);
                break;
            case MessageKind.HintsBegin:
                _hintsDone.Add(m.Text);
                break;
            case MessageKind.Compared:
                foreach (var value in m.Tokens)
                    if (_comparedSeen.Add(Convert.ToHexString(value)))
                        _compared.Add(value);
                break;
            case MessageKind.Inited:
                _latest = m.Stats;
                // libFuzzer's check: a target whose seeds reached no instrumented code is fuzzed blind
                // (code that calls Kcov.Runtime but whose seeds covered nothing yet may still find some).
                if (m.Stats.Cov == 0 && !InstrumentedCode.IsLoaded())
                    throw new FuzzerUsageException(NotInstrumented);
                if (e.Executor.Slot == 0 && _restartCount == 0)
                    _status.Line(m.Stats.Execs, "INITED", m.Stats, e.Executor.RssMb());
                break;
            case MessageKind.Stats:
                _latest = m.Stats;
                if (m.Text == "pulse")
                    _status.Line(m.Stats.Execs, "pulse", m.Stats, e.Executor.RssMb());
                break;
            case MessageKind.Done:
                _latest = m.Stats;
                break;
        }
    }

    /// <summary>
    /// A crash in an executor that parked threads of hanging inputs ran in a process those threads may
    /// have left in a state a fresh one would not have (a half-updated cache, say): the report says so.
    /// </summary>
    private static string ParkedNote(ExecutorProcess executor) => executor.ParkedThreads == 0 ? "" :
        $"NOTE: the executor had parked the threads of {executor.ParkedThreads} hanging input(s) before this one; run the artifact alone to check that the crash does not depend on what they left behind.\n";

    /// <summary>
    /// -reduce_inputs=1: inputs a new one pushed out of the corpus (smaller inputs own all their features)
    /// leave the corpus the executors restart with, and their files go if this campaign wrote them.
    /// </summary>
    private void Drop(List<byte[]> dropped)
    {
        foreach (var input in dropped)
        {
            string sha1 = CorpusDirectory.Sha1(input);
            if (!options.ReduceInputs || !_saved.Remove(sha1))
                continue;
            _corpus.RemoveAll(c => c.AsSpan().SequenceEqual(input));
            File.Delete(Path.Combine(corpusDirectories[0], sha1));
            if (options.Verbosity >= 2)
                _status.Info($"removed {sha1}: smaller inputs have all its features");
        }
    }

    private void OnDeath(ExecutorPool pool, PoolEvent e, long execs)
    {
        var report = e.Death!;
        if (e.DeathInput is null)
        {
            if (e.Executor.Killed != KillReason.Stop)
                _status.Info($"executor {e.Executor.Process.Id} died between inputs: {report.Title}");
            return;
        }
        var killed = e.Reason;
        if (killed == KillReason.ShortTimeout && !pool.KnownHangs.Contains(report.Signature))
        {
            // Not a loop we know: the input may only be slow. The next executor runs it first under -timeout.
            _probes[e.Executor.Slot] = e.DeathInput;
            _status.Info($"an input derived from a hanging one ran past the short timeout ({ExecutorPool.ShortTimeoutSeconds} s) in {report.Signature}; trying it under -timeout={options.TimeoutSeconds}");
            return;
        }
        if (killed == KillReason.Timeout && e.Parked is null && e.Executor.ParkedThreads > 0 && !pool.KnownHangs.Contains(report.Signature))
        {
            // Not in a loop of instrumented code (it would have been parked), in an executor where parked
            // threads may hold a lock this input waits for: its hang is only believed from a new executor.
            _probes[e.Executor.Slot] = e.DeathInput;
            _status.Info($"an input hung outside instrumented code in an executor with {e.Executor.ParkedThreads} parked thread(s) ({report.Signature}); trying it again in a new executor under -timeout={options.TimeoutSeconds}");
            return;
        }
        // Never expected: each executor is told the inputs that killed an earlier one, and skips them.
        if (!_poison.Add(CorpusDirectory.Sha1(e.DeathInput)))
            _killerReplays++;
        _killers.Add(e.DeathInput);
        bool newHang = !pool.KnownHangs.Contains(report.Signature);
        if (report.Kind == Crashes.ArtifactKind.Timeout && killed is KillReason.Timeout or KillReason.ShortTimeout or KillReason.KnownHang)
        {
            _hangs++;
            if (killed == KillReason.KnownHang)
                _hangsCutEarly++;
            pool.KnownHangs.Add(report.Signature);
            // Its siblings are likely to hang too: the parent's children get the short timeout from now on.
            if (e.DeathParent != 0 && _hangParents.Add(e.DeathParent))
                // (A restarted executor learns it from its Start message; one that parked the thread goes on and is told too.)
                pool.Broadcast(new Message { Kind = MessageKind.HangParent, Numbers = [(long)e.DeathParent] }, except: e.Parked is null ? e.Executor : null);
        }
        string how = (killed == KillReason.KnownHang ? "cut early" : "") + (e.Parked is not null ? $"{(killed == KillReason.KnownHang ? ", " : "")}thread parked, no restart" : "");
        if (e.Parked is not null && newHang)
            _status.Info($"executor {e.Executor.Slot} goes on without a restart: the thread of the hanging input is parked ({pool.ParkedThreads} parked so far)");
        Found(pool, report.Kind, report.DedupKey, report.Signature, e.DeathInput, report.Render(e.DeathInput), execs,
            how.Length > 0 ? $" ({how})" : "");
    }

    /// <summary>
    /// Saves a finding (one already saved gets a line), and ends the campaign at the first one no
    /// -ignore_* flag covers; findings that arrive while it ends are not saved.
    /// </summary>
    private void Found(ExecutorPool pool, Crashes.ArtifactKind kind, string key, string signature, byte[] input, string report, long execs, string note = "")
    {
        if (_stopping)
            return;
        if (_artifacts.Save(kind, key, input, report, execs) is null)
        {
            Repeated(Crashes.CrashReport.Prefix(kind), signature, note);
            return;
        }
        if (options.Ignores(kind))
            return;
        _stopping = true;
        pool.RequestStop();
    }

    /// <summary>A finding whose signature was saved already: one line, and a count in the final stats.</summary>
    private void Repeated(string kind, string signature, string note)
    {
        _repeated++;
        _status.Info($"repeated {kind}: {signature}{note} ({_repeated} repeated findings so far)");
    }

    private void Tick(ExecutorPool pool)
    {
        if (options.MaxTotalTimeSeconds > 0 && _status.Elapsed.TotalSeconds >= options.MaxTotalTimeSeconds)
            pool.RequestStop();
        _status.Refresh(pool.Block.TotalExecs, _latest, pool.PeakRssMb);
    }

    private void PrintFinalStats(ExecutorPool pool, long execs)
    {
        void Stat(string name, long value) => _finalStats.Add(string.Create(CultureInfo.InvariantCulture, $"stat::{name}: {value}"));
        Stat("number_of_executed_units", execs);
        Stat("average_exec_per_sec", _status.ExecsPerSecond(execs));
        Stat("new_units_added", _newInputs);
        Stat("slowest_unit_time_sec", (long)pool.SlowestUnitSeconds);
        Stat("peak_rss_mb", pool.PeakRssMb);
        Stat("executor_restarts", pool.Restarts);
        Stat("crashes", _artifacts.Crashes);
        Stat("timeouts", _artifacts.Timeouts);
        Stat("ooms", _artifacts.Ooms);
        Stat("kcov_area_overflows", TotalOverflows);
        Stat("blocks", _latest.Cov);
        Stat("edges", _latest.Edges);
        Stat("features", _latest.Features);
        Stat("corpus_size", _latest.CorpusCount);
        Stat("hangs", _hangs);
        Stat("hangs_cut_early", _hangsCutEarly);
        Stat("hangs_parked", pool.ParkedThreads);
        Stat("repeated_findings", _repeated);
        Stat("killer_replays", _killerReplays);
        Stat("compared_values", _compared.Count);
    }
}
