using System.Collections.Concurrent;
using System.Diagnostics;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Feedback;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Mutation;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Executor;

/// <summary>
/// The executor's hot loop, with no supervisor round trip per input: pick a corpus input,
/// mutate it, publish it to the slot, reset area[0], run, read the trace into features, offer
/// it to the corpus. New corpus inputs get a comparison-hints pass (KCOV_TRACE_CMP run, then
/// one execution per operand substitution). Managed exceptions are caught and reported once per
/// signature; the loop then stops, as libFuzzer does, unless -ignore_crashes=1 (-ignore_ooms=1 for
/// an OutOfMemoryException) lets it go on.
/// <para>
/// Only the target's own run is timed (between <see cref="ExecutionGate.TryBegin"/> and
/// <see cref="ExecutionGate.End"/>): reading the trace, the hint search and the corpus update
/// happen with the slot idle, so the supervisor's -timeout never counts them. Inputs known to hang
/// (from the supervisor) are never run; inputs derived from a corpus input some of whose children
/// hung run under the supervisor's short timeout and that parent is picked less.
/// </para>
/// </summary>
internal sealed class FuzzLoop
{
    /// <summary>libFuzzer's -len_control default: executions without progress per log2 of the limit.</summary>
    private const int LengthControlRate = 100;

    private readonly FuzzerOptions _options;
    private readonly TargetRunner _runner;
    private readonly ExecutionGate _gate;
    private readonly IFuzzReporter _reporter;
    private readonly Random _random;
    private readonly Signal _signal = new();
    private readonly MutationDispatcher _dispatcher;
    private readonly MutationContext _context;
    private readonly Queue<InputInfo> _hintsPending = new();
    /// <summary>Executions of hint passes and of random mutations so far (see <see cref="Fuzz"/>).</summary>
    private long _hintExecs, _mutationExecs;
    private readonly HashSet<string> _reportedSignatures = [];
    private bool _stopped;
    private readonly HashSet<(int, ulong)> _knownHangs = [];
    private readonly HashSet<int> _knownHangLengths = [];
    private readonly HashSet<ulong> _hangParents = [];
    private readonly byte[] _buffer;
    private readonly int _maxLen;
    private readonly Stopwatch _sinceStats = Stopwatch.StartNew();
    private int _lengthLimit;
    private long _lastProgress;

    public FuzzLoop(FuzzerOptions options, TargetRunner runner, ExecutionGate gate, IFuzzReporter reporter,
        int seed, int maxLen, IReadOnlyList<byte[]> tokens)
    {
        _options = options;
        _runner = runner;
        _gate = gate;
        _reporter = reporter;
        _random = new Random(seed);
        _maxLen = maxLen;
        _buffer = new byte[maxLen];
        _lengthLimit = Math.Min(maxLen, 8);
        Corpus = new InputCorpus { Entropic = options.Entropic ? new EntropicSchedule(Signal.FeatureBits) : null };
        _context = new MutationContext(_random, tokens, () => Corpus.Count == 0 ? null : Corpus.Pick(_random).Data);
        _dispatcher = new MutationDispatcher(_context, options.MutateDepth, options.CrossOver);
    }

    public InputCorpus Corpus { get; }

    /// <summary>Executions this loop ran.</summary>
    public long Execs { get; private set; }

    /// <summary>Inputs found by other executors (-jobs), run and kept here if they add signal.</summary>
    public ConcurrentQueue<byte[]> Incoming { get; } = new();

    /// <summary>Hashes of corpus inputs some of whose children hung (from the supervisor, while we run).</summary>
    public ConcurrentQueue<ulong> IncomingHangParents { get; } = new();

    /// <summary>The length limit (-len_control) of the campaign so far: the supervisor keeps it across restarts.</summary>
    public void ResumeLengthLimit(int limit) => _lengthLimit = Math.Clamp(limit, _lengthLimit, _maxLen);

    /// <summary>An input that hung: never run again by this loop.</summary>
    public void AddKnownHang(byte[] input)
    {
        _knownHangs.Add((input.Length, CmpHints.Hash(input)));
        _knownHangLengths.Add(input.Length);
    }

    /// <summary>A corpus input (by hash) some of whose children hung.</summary>
    public void AddHangParent(ulong hash)
    {
        _hangParents.Add(hash);
        foreach (var info in Corpus.Inputs)
            if (info.Hash == hash)
                info.HangParent = true;
    }

    /// <summary>Values the target compared against, learned by earlier executors of the campaign.</summary>
    public void AddCompared(IEnumerable<byte[]> values) => _context.AddCompared(values);

    /// <summary>The counters for a status line; Execs is the campaign's total, as libFuzzer's #N.</summary>
    public FuzzStats Stats => new(_gate.TotalExecs, Corpus.Seen.PcCount, Corpus.Seen.Count, Corpus.Count, Corpus.TotalBytes, _signal.Overflows, _lengthLimit,
        Corpus.Seen.EdgeCount);

    /// <summary>
    /// Runs the initial corpus (smallest first), or one empty input if there is none: all of it, as
    /// libFuzzer does whatever -runs says (-runs=0 runs the corpus and no more), unless
    /// <paramref name="bounded"/> (an executor restarted in a campaign re-runs the corpus within -runs).
    /// <paramref name="hintsDone"/>, if given, says per seed whether an earlier executor of the
    /// campaign already ran its hints pass.
    /// </summary>
    public bool RunSeeds(IReadOnlyList<byte[]> seeds, IReadOnlyList<bool>? hintsDone = null, bool bounded = false)
    {
        var ordered = seeds.Count == 0 ? [([], false)] : seeds.Select((s, i) => (s, hintsDone is not null && i < hintsDone.Count && hintsDone[i]))
            .OrderBy(s => s.Item1.Length).ToList();
        foreach (var (seed, done) in ordered)
        {
            var input = seed.Length > _maxLen ? seed[.._maxLen] : seed;
            _lengthLimit = Math.Max(_lengthLimit, Math.Min(input.Length, _maxLen));
            if (!Execute(input, InputOrigin.Seed, out var info, bounded: bounded))
                return false;
            if (info is not null && done)
                info.HintsDone = true;
        }
        _reporter.Inited(Stats);
        return true;
    }

    /// <summary>
    /// Whether the loop is in <see cref="Fuzz"/>, where an input that hangs may be left by parking its
    /// thread and going on from <see cref="ResumeAfterHang"/> on another (<see cref="HangParking"/>).
    /// Seeds and an input to retry run before: a hang there ends the executor, as it always did.
    /// </summary>
    public bool Fuzzing => Volatile.Read(ref _fuzzing);

    private bool _fuzzing;
    private bool _dictionaryLoaded;

    /// <summary>Fuzzes until -runs are used up or a stop is asked.</summary>
    public void Fuzz()
    {
        // After the seeds ran, the target's assemblies are loaded: their literals are the auto dictionary.
        if (_options.AutoDictionary && !_dictionaryLoaded)
            _context.AddTokens(TokenDictionary.FromLoadedAssemblies());
        _dictionaryLoaded = true;
        Volatile.Write(ref _fuzzing, true);
        while (!_gate.StopRequested && !_stopped)
        {
            if (!DrainIncoming())
                return;
            // Hint passes take at most half of the executions: on a parser whose every new input gives
            // hints that give new inputs (AngleSharp with call-site hooks), a queue served first would
            // leave no execution to random mutation, and every seed would run the same campaign.
            if (_options.UseCmp && _hintsPending.Count > 0 && _hintExecs <= _mutationExecs)
            {
                long before = Execs;
                bool more = RunHints(_hintsPending.Dequeue());
                _hintExecs += Execs - before;
                if (!more)
                    return;
                continue;
            }
            int size = 0;
            InputInfo? parent = null;
            if (Corpus.Count > 0)
            {
                parent = Corpus.Pick(_random);
                // A parent whose children hang is picked a sixteenth as often: each hang costs an executor.
                if (parent.HangParent && _random.Next(16) != 0)
                    parent = Corpus.Pick(_random);
                size = Math.Min(parent.Data.Length, _maxLen);
                parent.Data.AsSpan(0, size).CopyTo(_buffer);
            }
            size = _dispatcher.Mutate(_buffer, size, Math.Max(size, _lengthLimit));
            long executed = Execs;
            bool goOn = Execute(_buffer.AsSpan(0, size), InputOrigin.Mutation, out _, parent);
            _mutationExecs += Execs - executed;
            if (!goOn)
                return;
            ControlLength();
            if (_sinceStats.ElapsedMilliseconds >= 1000)
            {
                _reporter.Stats(Stats);
                _sinceStats.Restart();
            }
        }
    }

    /// <summary>
    /// On the thread that takes over from one parked in <paramref name="hung"/>'s run (its runner
    /// adopted): that run is over for the campaign, and the input is never run again here. The parked
    /// thread's unfinished work (the rest of a hints pass, say) is dropped; <see cref="Fuzz"/> goes on.
    /// </summary>
    public void ResumeAfterHang(byte[] hung)
    {
        _gate.End();
        Execs++;
        AddKnownHang(hung);
    }

    /// <summary>Runs one input and offers it to the corpus; false when the budget is spent or a finding stopped the loop.</summary>
    public bool Execute(ReadOnlySpan<byte> input, InputOrigin origin) => Execute(input, origin, out _);

    /// <summary>
    /// Runs one input derived from <paramref name="parent"/> and offers it to the corpus; false when the
    /// budget is spent or a finding stopped the loop. A seed (not <paramref name="bounded"/>) runs whatever -runs says.
    /// </summary>
    private bool Execute(ReadOnlySpan<byte> input, InputOrigin origin, out InputInfo? added, InputInfo? parent = null, bool bounded = true)
    {
        added = null;
        if (_stopped)
            return false;
        if (_knownHangLengths.Contains(input.Length) && _knownHangs.Contains((input.Length, CmpHints.Hash(input))))
            return !_gate.StopRequested;
        int traceOffset = _runner.PrepareRun();
        if (!_gate.TryBegin(input, KcovMode.TracePc, parent?.Hash ?? 0, parent?.HangParent ?? false, bounded, traceOffset))
            return false;
        var error = _runner.Run(input);
        string? overwritten = _gate.End();
        var features = _signal.Collect(_runner.Area, edges: _options.Unique != 2);
        Execs++;
        Corpus.Entropic?.Observe(features, parent);
        if (_options.UseValueProfile && error is null)
        {
            features = WithValueProfile(features, input, out bool ran);
            if (!ran)
                return false;
        }
        long total = _gate.TotalExecs;
        if ((total & (total - 1)) == 0 && total > 1)
            _reporter.Pulse(Stats);
        if (error is not null || overwritten is not null)
        {
            ulong site = _runner.ThrowSite;
            bool more = error is null || !_runner.Unique || ThrowSiteByTracePc(input, error, out site);
            ReportCrash(error is not null ? CrashReport.FromException(error, site) : CrashReport.ControlBlockOverwritten(overwritten!), input);
            if (error is OutOfMemoryException)
                GC.Collect();
            // A service that no longer answers takes every later input with it: stop here.
            return more && !_stopped && error is not Service.ServiceLostException;
        }
        var info = Corpus.Offer(input, features, out var outcome);
        added = info;
        if (info is not null)
        {
            info.HangParent = _hangParents.Contains(info.Hash);
            // Progress, for the length control, is new signal; a smaller input for known signal is not.
            if (outcome == InputCorpus.Outcome.New)
                _lastProgress = Execs;
            _hintsPending.Enqueue(info);
            // Seeds and inputs from other executors are already on disk: only findings are reported.
            if (origin != InputOrigin.Seed)
                _reporter.NewInput(info.Data, outcome == InputCorpus.Outcome.New ? "NEW" : "REDUCE",
                    origin == InputOrigin.CmpHint ? "CmpHints-" : _dispatcher.LastSequence(), Stats, Corpus.Dropped);
        }
        return true;
    }

    /// <summary>
    /// syzkaller's hints for one corpus input: one run under KCOV_TRACE_CMP, then each
    /// operand substitution as an ordinary execution.
    /// </summary>
    public bool RunHints(InputInfo info)
    {
        if (info.HintsDone || info.Index < 0)
            return true;
        info.HintsDone = true;
        // Said before the pass: if one of its candidates kills us, the next executor does not redo it.
        _reporter.HintsBegin(info.Data);
        if (!_gate.TryBegin(info.Data, KcovMode.TraceCmp, info.Hash))
            return false;
        _runner.SetMode(KcovMode.TraceCmp);
        Exception? error;
        try
        {
            // Deterministic targets do not throw here: the input already ran cleanly. A service
            // that stopped answering does, and it takes the campaign with it.
            error = _runner.Run(info.Data);
        }
        finally
        {
            _gate.End();
            _runner.SetMode(KcovMode.TracePc);
        }
        if (error is Service.ServiceLostException)
        {
            ReportCrash(CrashReport.FromException(error), info.Data);
            return false;
        }
        Execs++;
        // The search runs with the slot idle: however long it takes, it is not the input's run.
        var compared = new List<byte[]>();
        var candidates = CmpHints.Candidates(_runner.Area, info.Data, _options.MaxHints, compared);
        var learned = _context.AddCompared(compared);
        if (learned.Count > 0)
            _reporter.Compared(learned);
        foreach (var candidate in candidates)
            if (!Execute(candidate, InputOrigin.CmpHint, out _, info))
                return false;
        return true;
    }

    /// <summary>
    /// -kcov_unique: the unique trace does not say which block threw (that block may have run earlier in
    /// the input, and is then not written again), so the input runs once more under plain trace-pc, an
    /// execution of the campaign like any other, for the exact site: a crash has the same signature in
    /// both modes. False when the budget is spent (the crash is then reported without a site).
    /// </summary>
    private bool ThrowSiteByTracePc(ReadOnlySpan<byte> input, Exception error, out ulong site)
    {
        site = 0;
        if (!_gate.TryBegin(input, KcovMode.TracePc))
            return false;
        _runner.SetMode(KcovMode.TracePc, exactPcs: true);
        try
        {
            // The same exception again gives its site; a target that behaves differently the second time gives none.
            if (_runner.Run(input)?.GetType() == error.GetType())
                site = _runner.ThrowSite;
        }
        finally
        {
            _gate.End();
            _runner.SetMode(KcovMode.TracePc);
        }
        Execs++;
        return true;
    }

    private uint[] _combined = new uint[1 << 12];

    /// <summary>
    /// -use_value_profile=1: kcov has one trace mode per run, so the input runs once more under
    /// KCOV_TRACE_CMP (an execution of the campaign like any other) and its comparisons' closeness
    /// joins its features.
    /// </summary>
    private ReadOnlySpan<uint> WithValueProfile(ReadOnlySpan<uint> features, ReadOnlySpan<byte> input, out bool ran)
    {
        int n = features.Length;
        if (_combined.Length < n)
            _combined = new uint[n * 2];
        features.CopyTo(_combined);
        ran = _gate.TryBegin(input, KcovMode.TraceCmp);
        if (!ran)
            return _combined.AsSpan(0, n);
        _runner.SetMode(KcovMode.TraceCmp);
        try
        {
            _runner.Run(input);
        }
        finally
        {
            _gate.End();
            _runner.SetMode(KcovMode.TracePc);
        }
        Execs++;
        var values = _signal.CollectValues(_runner.Area);
        if (_combined.Length < n + values.Count)
            Array.Resize(ref _combined, (n + values.Count) * 2);
        for (int i = 0; i < values.Count; i++)
            _combined[n + i] = values[i];
        return _combined.AsSpan(0, n + values.Count);
    }

    private bool DrainIncoming()
    {
        while (IncomingHangParents.TryDequeue(out ulong hash))
            AddHangParent(hash);
        while (Incoming.TryDequeue(out var input))
        {
            var clipped = input.Length > _maxLen ? input[.._maxLen] : input;
            if (!Execute(clipped, InputOrigin.Seed))
                return false;
        }
        return true;
    }

    /// <summary>
    /// libFuzzer's -len_control: small inputs first; the length limit grows (by its log) once
    /// LengthControlRate * log2(limit) executions have found nothing new.
    /// </summary>
    private void ControlLength()
    {
        if (_lengthLimit >= _maxLen || Execs - _lastProgress < LengthControlRate * Math.Log2(_lengthLimit))
            return;
        _lengthLimit = Math.Min(_maxLen, _lengthLimit + Math.Max(1, (int)Math.Log2(_lengthLimit)));
        _lastProgress = Execs;
    }

    private void ReportCrash(CrashReport report, ReadOnlySpan<byte> input)
    {
        if (_reportedSignatures.Add(report.DedupKey))
            _reporter.Crash(report, input.ToArray(), _gate.TotalExecs);
        _stopped = !_options.Ignores(report.Kind);
    }
}
