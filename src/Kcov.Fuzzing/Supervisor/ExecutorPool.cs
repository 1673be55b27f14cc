using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Starts executors (this same harness, relaunched with <see cref="ExecutorMain.EnvironmentVariable"/>),
/// turns what they do into a stream of <see cref="PoolEvent"/>s, and watches them: an input
/// that runs past -timeout, or an RSS past -rss_limit_mb, gets the executor killed, and its
/// death comes out of <see cref="Events"/> with the input read back from the control block.
/// <para>
/// An executor runs the target, which may write anywhere in its process: everything it writes is
/// hostile input here. Sizes and offsets come from the supervisor's own copy of the control
/// block's geometry; the block and every message are checked before they are believed, and an
/// executor that wrote garbage is killed and reported (<see cref="KillReason.Garbage"/>); the only
/// paths the supervisor opens are its own making (its socket, /proc/&lt;pid it started&gt;/fd/&lt;n&gt;),
/// and it deletes none: its socket is abstract, its shared memory memfds.
/// </para>
/// </summary>
internal sealed class ExecutorPool : IDisposable
{
    private static readonly TimeSpan StartupLimit = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DyingLimit = TimeSpan.FromSeconds(60);

    /// <summary>Room for a crash report's text and a -merge input's features beside the input itself.</summary>
    private const int MessageOverhead = 64 << 20;

    /// <summary>
    /// The short timeout (seconds) of inputs derived from a parent whose children hung. Being killed
    /// at it is not yet a finding: the input is tried again under -timeout unless its loop is known.
    /// </summary>
    public const double ShortTimeoutSeconds = 1;

    /// <summary>
    /// An input running this long is checked against the loops of the hangs already reported. Short,
    /// because a target whose loop is easy to reach hangs every hundred inputs or so and each one costs
    /// this much. An input that is only slow and whose trace ends in whole turns of a known loop at that
    /// moment is cut too, and counts as that hang repeated: the price of cheap hangs.
    /// </summary>
    public const double KnownHangCheckSeconds = 0.01;

    /// <summary>How often the watchdog looks at the executors (milliseconds): a known hang is cut within this of <see cref="KnownHangCheckSeconds"/>.</summary>
    private const int WatchMilliseconds = 2;

    private readonly Stopwatch _sinceRss = Stopwatch.StartNew();

    private readonly FuzzerOptions _options;
    /// <summary>"@name" (abstract: no file) on Linux, a path in the temp directory elsewhere.</summary>
    private readonly string _socketAddress;
    private readonly int _maxMessage;
    private bool _stopRequested;
    private readonly Socket _listener;
    private readonly BlockingCollection<PoolEvent> _events = new();
    private readonly List<ExecutorProcess> _live = [];
    private readonly LastBlocks _lastBlocks = new(AppContext.BaseDirectory);
    private readonly HashSet<int> _startedSlots = [];

    private readonly bool _forwardOutput;

    /// <summary>
    /// A pool of <paramref name="slots"/> executors over one control block for inputs up to
    /// <paramref name="maxLen"/> bytes and <paramref name="runsLimit"/> executions (-1: no limit).
    /// <paramref name="forwardOutput"/> is false under a live view: the executors' output is then
    /// kept (the stderr tail) but not shown. <paramref name="options"/> give -timeout, -rss_limit_mb, -close_fd_mask.
    /// </summary>
    public ExecutorPool(FuzzerOptions options, int slots, int maxLen, long runsLimit, bool forwardOutput = true)
    {
        _forwardOutput = forwardOutput;
        _options = options;
        _maxMessage = (int)Math.Min(int.MaxValue, MessageOverhead + 2L * maxLen);
        Block = ControlBlock.Create(slots, maxLen, runsLimit);
        string name = $"kcov-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}";
        _socketAddress = OperatingSystem.IsLinux() ? "@" + name : Path.Combine(Path.GetTempPath(), name[..40] + ".sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(Channel.EndPoint(_socketAddress));
        if (!_socketAddress.StartsWith('@') && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(_socketAddress, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(8);
    }

    public ControlBlock Block { get; }

    public IReadOnlyList<ExecutorProcess> Live => _live;

    /// <summary>RequestStop was called: the supervisor's own record, not the shared stop word executors can write.</summary>
    public bool StopRequested => Volatile.Read(ref _stopRequested);

    /// <summary>Executors started after the first one in each slot.</summary>
    public int Restarts { get; private set; }

    public long PeakRssMb { get; private set; }

    /// <summary>The longest any one input has run so far, as the watchdog saw it (it looks every <see cref="WatchMilliseconds"/>).</summary>
    public double SlowestUnitSeconds { get; private set; }

    /// <summary>Threads an executor may have parked in hanging inputs before the next hang ends it instead (each keeps its stack and what it allocated).</summary>
    public const int MaxParkedThreads = 256;

    /// <summary>How long an executor has to answer a park (it waits up to a second for the thread to get to a block).</summary>
    private static readonly TimeSpan ParkAnswerLimit = TimeSpan.FromSeconds(5);

    /// <summary>Hanging inputs left by parking their thread, in all executors (no restart).</summary>
    public long ParkedThreads { get; private set; }

    /// <summary>Signatures of the hangs found so far: an input caught in one of their loops is cut early.</summary>
    public HashSet<string> KnownHangs { get; } = [];

    /// <summary>Starts an executor in <paramref name="slot"/>, waits for its Hello, and sends it <paramref name="start"/>.</summary>
    public ExecutorProcess Start(int slot, Message start)
    {
        if (!_startedSlots.Add(slot))
            Restarts++;
        Block.ResetSlot(slot);
        var process = new Process { StartInfo = ExecutorStartInfo(slot), EnableRaisingEvents = true };
        var executor = new ExecutorProcess(slot, process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && _forwardOutput && (_options.CloseFdMask & 1) == 0)
                Console.Out.WriteLine(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            if (executor.AppendStderr(e.Data) && _forwardOutput && (_options.CloseFdMask & 2) == 0)
                Console.Error.WriteLine(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        executor.Channel = Accept(executor);
        string? problem = Hello(executor);
        if (problem is not null)
        {
            int pid = executor.Process.Id;
            executor.KillForGarbage(problem);
            executor.Process.WaitForExit();
            executor.Dispose();
            throw new FuzzerUsageException($"the executor (pid {pid}) was killed: {problem}; is the harness calling Kcov.Fuzzing.Fuzzer.Run(args, target) from Main?");
        }
        executor.Channel.Send(start);
        executor.Fuzzes = start.Numbers.Length > 0 && start.Numbers[0] == (long)ExecutorMode.Fuzz;
        _live.Add(executor);
        new Thread(() => ReadMessages(executor)) { IsBackground = true, Name = $"kcov-fuzz-executor-{slot}" }.Start();
        return executor;
    }

    /// <summary>
    /// Messages and ends of executors, in arrival order, until none is left. Between events
    /// (every <see cref="WatchMilliseconds"/>) the watchdog checks -timeout, -rss_limit_mb and known
    /// hangs, and every 50 ms calls <paramref name="tick"/>.
    /// </summary>
    public IEnumerable<PoolEvent> Events(Action tick)
    {
        var sinceWatch = Stopwatch.StartNew();
        var sinceTick = Stopwatch.StartNew();
        while (_live.Count > 0)
        {
            // Not per message: a burst of corpus inputs must not mean a burst of /proc reads.
            if (sinceTick.ElapsedMilliseconds >= 50)
            {
                tick();
                sinceTick.Restart();
            }
            if (sinceWatch.ElapsedMilliseconds >= WatchMilliseconds)
            {
                Watch();
                sinceWatch.Restart();
            }
            if (!_events.TryTake(out var e, WatchMilliseconds))
                continue;
            if (e.Message is not null)
            {
                if (e.Message.Kind == MessageKind.Done)
                    e.Executor.SaidDone = true;
                if (e.Message.Kind == MessageKind.Parked)
                {
                    if (Answered(e.Executor, e.Message) is { } parked)
                        yield return parked;
                    continue;
                }
                yield return e;
                continue;
            }
            _live.Remove(e.Executor);
            yield return Ended(e.Executor);
            e.Executor.Dispose();
        }
    }

    /// <summary>
    /// Reads the executor's Hello: its slot and the descriptor number of its kcov area, which is mapped
    /// here (see <see cref="ExecutorArea"/>). Returns what was wrong with it, or null.
    /// </summary>
    private string? Hello(ExecutorProcess executor)
    {
        Message? hello;
        try
        {
            hello = executor.Channel!.Receive();
        }
        catch (InvalidDataException e)
        {
            return $"it sent garbage instead of its hello ({e.Message})";
        }
        if (hello is null)
            return "it did not say hello";
        if (hello.Kind != MessageKind.Hello)
            return $"it sent {hello.Kind} before its hello";
        if (hello.ProblemFromExecutor(Block.MaxLen) is { } shape)
            return $"it sent a malformed hello ({shape})";
        if (hello.Numbers[0] != executor.Slot)
            return $"it said it runs slot {hello.Numbers[0]}, not {executor.Slot}";
        // -1: no /proc to name the area through (not Linux); ServiceArea: the area is a service's, not the
        // executor's (an HTTP target). No last blocks then.
        if ((hello.Numbers[1] == -1 && !OperatingSystem.IsLinux()) || hello.Numbers[1] == TargetRunner.ServiceArea)
            return null;
        executor.Area = ExecutorArea.Map(executor.Process.Id, hello.Numbers[1], _options.AreaWords, out var problem);
        return problem;
    }

    /// <summary>
    /// The executor sent a message that makes no sense to the campaign (a -merge index out of range):
    /// it is killed like one that wrote garbage.
    /// </summary>
    public static void Reject(ExecutorProcess executor, string problem) => executor.KillForGarbage($"it sent a message that makes no sense here ({problem})");

    /// <summary>Asks all executors to stop after their current input.</summary>
    public void RequestStop()
    {
        Volatile.Write(ref _stopRequested, true);
        Block.RequestStop();
    }

    /// <summary>Sends a message to every live executor but one (-jobs corpus sharing).</summary>
    public void Broadcast(Message message, ExecutorProcess? except)
    {
        foreach (var e in _live)
        {
            if (e == except || e.Channel is null)
                continue;
            try { e.Channel.Send(message); }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException) { }
        }
    }

    private PoolEvent Ended(ExecutorProcess executor)
    {
        // Its channel is closed; a process that lingers after that (stuck in a finalizer, say) is ended.
        if (!executor.Process.WaitForExit(ExitLimit))
            executor.Kill(executor.Killed == KillReason.None ? KillReason.Stop : executor.Killed);
        executor.Process.WaitForExit(); // also drains its stdout/stderr readers
        int exitCode = executor.Process.ExitCode;
        if (executor.HiddenLines > 0 && _forwardOutput && (_options.CloseFdMask & 2) == 0)
            Console.Error.WriteLine($"   ... ({executor.HiddenLines} more lines of the runtime's report, left out)");
        if (executor.SaidDone && exitCode == 0 && executor.Killed == KillReason.None)
            return new PoolEvent(executor, null);
        // The slot is believed only if it makes sense: its input is then the one that was running.
        string? slotGarbage = Block.CheckSlot(executor.Slot);
        bool inInput = slotGarbage is null && Block.State(executor.Slot) == ControlBlock.StateRunning;
        byte[]? input = inInput ? Block.ReadInput(executor.Slot) : null;
        ulong[] pcs = inInput ? _lastBlocks.Read(executor.Area, Block.TraceMode(executor.Slot), Block.TraceOffset(executor.Slot)) : [];
        var report = HangReport(executor.Killed, pcs) ?? executor.Killed switch
        {
            KillReason.Rss => CrashReport.OutOfMemory(executor.PeakRssMb, _options.RssLimitMb),
            KillReason.Garbage => CrashReport.Garbage(executor.Garbage!),
            _ when slotGarbage is not null => CrashReport.Garbage(slotGarbage),
            _ => CrashReport.FromDeath(executor.StderrTail, exitCode),
        };
        if (inInput)
            report = report.WithLastBlocks(_lastBlocks.Describe(pcs), firstHits: Block.TraceOffset(executor.Slot) > 0);
        ulong parent = inInput ? Block.Parent(executor.Slot) : 0;
        return new PoolEvent(executor, null, report, input, parent);
    }

    /// <summary>The report of an input ended for running too long, from the last blocks of its trace; null for other reasons.</summary>
    private CrashReport? HangReport(KillReason reason, ulong[] pcs) => reason switch
    {
        KillReason.Timeout => CrashReport.Timeout(_options.TimeoutSeconds, _lastBlocks.Loop(pcs)),
        KillReason.ShortTimeout => CrashReport.Timeout(ShortTimeoutSeconds, _lastBlocks.Loop(pcs),
            "the short timeout of inputs derived from a hanging one"),
        KillReason.KnownHang => CrashReport.Timeout(KnownHangCheckSeconds, _lastBlocks.Loop(pcs),
            "the input was stopped in the loop of a hang already reported"),
        _ => null,
    };

    /// <summary>
    /// Ends an input that runs too long: by parking its thread where the executor can (it fuzzes, its
    /// thread runs instrumented code: <see cref="Executor.HangParking"/>), else by killing the executor.
    /// What the report needs is read now, before the executor's next input overwrites it. An input
    /// ended at the short timeout whose loop is unknown is not parked: the campaign retries it first
    /// thing in a new executor, under -timeout.
    /// </summary>
    private void End(ExecutorProcess e, KillReason reason)
    {
        bool parkable = e.Fuzzes && e.Channel is not null && reason is KillReason.Timeout or KillReason.KnownHang
            && e.ParkedThreads < MaxParkedThreads
            && (_options.RssLimitMb <= 0 || e.LastRssMb < _options.RssLimitMb / 2);
        if (!parkable)
        {
            e.Kill(reason);
            return;
        }
        long heartbeat = Block.Heartbeat(e.Slot);
        ulong[] pcs = _lastBlocks.Read(e.Area, Block.TraceMode(e.Slot), Block.TraceOffset(e.Slot));
        var report = HangReport(reason, pcs)!.WithLastBlocks(_lastBlocks.Describe(pcs), firstHits: Block.TraceOffset(e.Slot) > 0);
        e.Parking = new ParkRequest(heartbeat, reason, report, Block.ReadInput(e.Slot), Block.Parent(e.Slot));
        try
        {
            e.Channel!.Send(new Message { Kind = MessageKind.Park, Numbers = [heartbeat] });
        }
        catch (IOException)
        {
            // The executor is going: its end is reported as a kill.
            e.Parking = null;
            e.Kill(reason);
        }
    }

    /// <summary>
    /// The executor's answer to a park: a finding like a death, with the report read when it was asked,
    /// or, if it did not park that input and still runs it, the kill it would have had.
    /// </summary>
    private PoolEvent? Answered(ExecutorProcess e, Message answer)
    {
        if (e.Parking is not { } asked || answer.Numbers[0] != asked.Heartbeat)
        {
            e.KillForGarbage($"it answered a park that was not asked (heartbeat {answer.Numbers[0]})");
            return null;
        }
        e.Parking = null;
        if (answer.Numbers[1] == 0)
        {
            if (Block.Heartbeat(e.Slot) == asked.Heartbeat && Block.State(e.Slot) == ControlBlock.StateRunning)
                e.Kill(asked.Reason);
            return null;
        }
        e.ParkedThreads++;
        ParkedThreads++;
        return new PoolEvent(e, null, asked.Report, asked.Input, asked.Parent, Parked: asked.Reason);
    }

    private void Watch()
    {
        // /proc is read every 50 ms, not at every look: that is often enough for -rss_limit_mb.
        bool readRss = _sinceRss.ElapsedMilliseconds >= 50;
        if (readRss)
            _sinceRss.Restart();
        if (Block.CheckHeader() is { } header)
        {
            // Any executor may have written it: none is believed any more. Restarted ones get the header back.
            foreach (var e in _live)
                e.KillForGarbage(header);
            Block.WriteHeader();
        }
        foreach (var e in _live)
        {
            if (e.Killed != KillReason.None)
                continue;
            if (Block.CheckSlot(e.Slot) is { } slot)
            {
                e.KillForGarbage(slot);
                continue;
            }
            // The runtime is writing its last words (a stack overflow's frames take a while): that is
            // neither a hang nor memory use of the input; only a process that does not finish dying is ended.
            if (e.DyingFor > TimeSpan.Zero)
            {
                if (e.DyingFor > DyingLimit)
                    e.Kill(KillReason.Stop);
                continue;
            }
            long rss = readRss ? e.RssMb() : e.LastRssMb;
            PeakRssMb = Math.Max(PeakRssMb, rss);
            double running = e.SecondsStuck(Block);
            SlowestUnitSeconds = Math.Max(SlowestUnitSeconds, running);
            if (_options.RssLimitMb > 0 && rss > _options.RssLimitMb)
            {
                e.Kill(KillReason.Rss);
                continue;
            }
            if (e.Parking is { } asked)
            {
                // An executor that does not answer (its reader thread is stuck too) is ended as before.
                if (asked.Since.Elapsed > ParkAnswerLimit)
                    e.Kill(asked.Reason);
                continue;
            }
            double stuck = _options.TimeoutSeconds > 0 ? running : 0;
            if (stuck > _options.TimeoutSeconds)
                End(e, KillReason.Timeout);
            else if (stuck > Math.Min(ShortTimeoutSeconds, _options.TimeoutSeconds) && Block.ShortTimeout(e.Slot))
                e.Kill(KillReason.ShortTimeout);
            else if (stuck > KnownHangCheckSeconds && KnownHangs.Count > 0 && InKnownLoop(e))
                End(e, KillReason.KnownHang);
        }
    }

    /// <summary>
    /// Whether the executor's running input spins in the loop of a hang already reported (its kcov area
    /// says where it is). The trace must end in whole turns of a loop: an input that is only slow (a
    /// JIT compilation on a loaded machine, say) shows a last block that does not repeat, and is left alone.
    /// </summary>
    private bool InKnownLoop(ExecutorProcess e) =>
        _lastBlocks.Loop(_lastBlocks.Read(e.Area, Block.TraceMode(e.Slot), Block.TraceOffset(e.Slot)), out int turns) is { } loop
        && turns >= LastBlocks.LoopTurns && KnownHangs.Contains($"Timeout <- {loop}");

    private void ReadMessages(ExecutorProcess executor)
    {
        try
        {
            while (executor.Channel!.Receive() is { } message)
            {
                if (message.ProblemFromExecutor(Block.MaxLen) is { } problem)
                {
                    executor.KillForGarbage($"it sent a malformed message ({problem})");
                    break;
                }
                _events.Add(new PoolEvent(executor, message));
            }
        }
        catch (InvalidDataException e)
        {
            executor.KillForGarbage($"it sent garbage on its socket ({e.Message})");
        }
        _events.Add(new PoolEvent(executor, null));
    }

    /// <summary>
    /// The executor's connection. On Linux the socket is abstract (any process may connect), so the
    /// kernel's word on who connected (SO_PEERCRED) must be the process started for this slot; any
    /// other connection is closed unread.
    /// </summary>
    private Channel Accept(ExecutorProcess executor)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (!_listener.Poll(100_000, SelectMode.SelectRead))
            {
                if (executor.Process.HasExited || clock.Elapsed > StartupLimit)
                {
                    if (!executor.Process.HasExited)
                        executor.Kill(KillReason.Stop);
                    executor.Process.WaitForExit();
                    string why = clock.Elapsed > StartupLimit ? "did not connect" : $"exited with code {executor.Process.ExitCode}";
                    string last = executor.StderrTail.Trim().Split('\n').LastOrDefault() ?? "";
                    throw new FuzzerUsageException($"the executor {why} before it started fuzzing{(last.Length > 0 ? $" ({last.Trim()})" : "")}; run the harness on one input file to see why");
                }
                continue;
            }
            var socket = _listener.Accept();
            int? peer = Channel.PeerProcessIdOf(socket);
            if (peer is null || peer == executor.Process.Id)
                return new Channel(socket, _maxMessage);
            Console.Error.WriteLine($"INFO: refused a connection to the executor socket from process {peer}, which is not the executor (pid {executor.Process.Id})");
            socket.Dispose();
        }
    }

    internal const string CallCountingDelay = "DOTNET_TC_CallCountingDelayMs";

    /// <summary>
    /// Tiered compilation starts counting calls only once no method was compiled for 100 ms, and a
    /// campaign keeps compiling the target's methods as it reaches them: in a 100,000-run campaign on
    /// Markdig, the fuzzer's loop and its mutators were still unoptimized Tier0 code at the end
    /// (DOTNET_JitDisasmSummary). Counted from the start, they reached Tier1 in the same campaign
    /// (docs/fuzzing.md, "Executions per second"). A value the user set is kept.
    /// </summary>
    internal static void CountCallsAtOnce(IDictionary<string, string?> environment)
    {
        if (!environment.ContainsKey(CallCountingDelay) && !environment.ContainsKey("COMPlus_TC_CallCountingDelayMs"))
            environment[CallCountingDelay] = "0";
    }

    private ProcessStartInfo ExecutorStartInfo(int slot)
    {
        // `dotnet harness.dll ...` or an apphost: start the same thing with the same arguments.
        string host = Environment.ProcessPath ?? "dotnet";
        string[] commandLine = Environment.GetCommandLineArgs();
        bool viaDotnet = Path.GetFileNameWithoutExtension(host) == "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in viaDotnet ? commandLine : commandLine.Skip(1))
            info.ArgumentList.Add(arg);
        info.Environment[ExecutorMain.EnvironmentVariable] = $"{_socketAddress}|{Block.Path}|{slot}";
        // Under `dotnet kcov run`, its startup hook traces the process it started; an executor is another
        // process, whose device and area are its own (see Reproducer.UnderKcovRun).
        info.Environment.Remove(Reproducer.KcovRunAreaFileVariable);
        CountCallsAtOnce(info.Environment);
        if (_options.RssLimitMb > 0)
        {
            // The GC heap limit turns most runaway allocations into an OutOfMemoryException the
            // executor catches (oom- artifact, no restart); the RSS watchdog catches the rest.
            info.Environment["DOTNET_GCHeapHardLimit"] = ((long)_options.RssLimitMb << 20).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        }
        return info;
    }

    public void Dispose()
    {
        foreach (var e in _live)
        {
            e.Kill(KillReason.Stop);
            e.Process.WaitForExit();
            e.Dispose();
        }
        _live.Clear();
        _listener.Dispose();
        if (!_socketAddress.StartsWith('@'))
        {
            try { File.Delete(_socketAddress); } catch (IOException) { }
        }
        Block.Dispose();
    }
}
