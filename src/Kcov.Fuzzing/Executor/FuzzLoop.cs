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
/// one execution per operand substitution). Managed exceptions are caught, reported once per
/// signature, and the loop goes on.
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
    private readonly HashSet<string> _reportedSignatures = [];
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
        _context = new MutationContext(_random, tokens, () => Corpus.Count == 0 ? null : Corpus.Pick(_random).Data);
        _dispatcher = new MutationDispatcher(_context, options.MutateDepth, options.CrossOver);
    }

    public InputCorpus Corpus { get; } = new();

    /// <summary>Executions this loop ran.</summary>
    public long Execs { get; private set; }

    /// <summary>Inputs found by other executors (-jobs), run and kept here if they add signal.</summary>
    public ConcurrentQueue<byte[]> Incoming { get; } = new();

    /// <summary>The counters for a status line; Execs is the campaign's total, as libFuzzer's #N.</summary>
    public FuzzStats Stats => new(_gate.TotalExecs, Corpus.Seen.PcCount, Corpus.Seen.Count, Corpus.Count, Corpus.TotalBytes, _signal.Overflows, _lengthLimit);

    /// <summary>Runs the initial corpus (smallest first), or one empty input if there is none.</summary>
    public bool RunSeeds(IReadOnlyList<byte[]> seeds)
    {
        var ordered = seeds.Count == 0 ? [[]] : seeds.OrderBy(s => s.Length).ToList();
        foreach (var seed in ordered)
        {
            var input = seed.Length > _maxLen ? seed[.._maxLen] : seed;
            _lengthLimit = Math.Max(_lengthLimit, Math.Min(input.Length, _maxLen));
            if (!Execute(input, InputOrigin.Seed))
                return false;
        }
        _reporter.Inited(Stats);
        return true;
    }

    /// <summary>Fuzzes until -runs are used up or a stop is asked.</summary>
    public void Fuzz()
    {
        // After the seeds ran, the target's assemblies are loaded: their literals are the auto dictionary.
        if (_options.AutoDictionary)
            _context.AddTokens(TokenDictionary.FromLoadedAssemblies());
        while (!_gate.StopRequested)
        {
            if (!DrainIncoming())
                return;
            if (_options.UseCmp && _hintsPending.Count > 0)
            {
                if (!RunHints(_hintsPending.Dequeue()))
                    return;
                continue;
            }
            int size = 0;
            if (Corpus.Count > 0)
            {
                var parent = Corpus.Pick(_random).Data;
                size = Math.Min(parent.Length, _maxLen);
                parent.AsSpan(0, size).CopyTo(_buffer);
            }
            size = _dispatcher.Mutate(_buffer, size, Math.Max(size, _lengthLimit));
            if (!Execute(_buffer.AsSpan(0, size), InputOrigin.Mutation))
                return;
            ControlLength();
            if (_sinceStats.ElapsedMilliseconds >= 1000)
            {
                _reporter.Stats(Stats);
                _sinceStats.Restart();
            }
        }
    }

    /// <summary>Runs one input and offers it to the corpus; false when the budget is spent.</summary>
    public bool Execute(ReadOnlySpan<byte> input, InputOrigin origin)
    {
        if (!_gate.TryBegin(input))
            return false;
        var error = _runner.Run(input);
        var features = _signal.Collect(_runner.Area);
        _gate.End();
        Execs++;
        long total = _gate.TotalExecs;
        if ((total & (total - 1)) == 0 && total > 1)
            _reporter.Pulse(Stats);
        if (error is not null)
        {
            ReportCrash(error, input);
            // A service that no longer answers takes every later input with it: stop here.
            return error is not Service.ServiceLostException;
        }
        var info = Corpus.Offer(input, features, out var outcome);
        if (info is not null)
        {
            // Progress, for the length control, is new signal; a smaller input for known signal is not.
            if (outcome == InputCorpus.Outcome.New)
                _lastProgress = Execs;
            _hintsPending.Enqueue(info);
            // Seeds and inputs from other executors are already on disk: only findings are reported.
            if (origin != InputOrigin.Seed)
                _reporter.NewInput(info.Data, outcome == InputCorpus.Outcome.New ? "NEW" : "REDUCE",
                    origin == InputOrigin.CmpHint ? "CmpHints-" : _dispatcher.LastSequence(), Stats);
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
        if (!_gate.TryBegin(info.Data, KcovMode.TraceCmp))
            return false;
        _runner.SetMode(KcovMode.TraceCmp);
        List<byte[]> candidates;
        Exception? error;
        try
        {
            // Deterministic targets do not throw here: the input already ran cleanly. A service
            // that stopped answering does, and it takes the campaign with it.
            error = _runner.Run(info.Data);
            candidates = CmpHints.Candidates(_runner.Area, info.Data, _options.MaxHints);
        }
        finally
        {
            _runner.SetMode(KcovMode.TracePc);
            _gate.End();
        }
        if (error is Service.ServiceLostException)
        {
            ReportCrash(error, info.Data);
            return false;
        }
        Execs++;
        foreach (var candidate in candidates)
            if (!Execute(candidate, InputOrigin.CmpHint))
                return false;
        return true;
    }

    private bool DrainIncoming()
    {
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

    private void ReportCrash(Exception error, ReadOnlySpan<byte> input)
    {
        var report = CrashReport.FromException(error);
        if (error is OutOfMemoryException)
            GC.Collect();
        if (_reportedSignatures.Add(report.Signature))
            _reporter.Crash(report, input.ToArray(), _gate.TotalExecs);
    }
}
