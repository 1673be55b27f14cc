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
/// </summary>
internal sealed class ExecutorPool : IDisposable
{
    private static readonly TimeSpan StartupLimit = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ExitLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The short timeout (seconds) of inputs derived from a parent whose children hung. Being killed
    /// at it is not yet a finding: the input is tried again under -timeout unless its loop is known.
    /// </summary>
    public const double ShortTimeoutSeconds = 1;

    /// <summary>An input running this long is checked against the loops of the hangs already reported.</summary>
    public const double KnownHangCheckSeconds = 0.25;

    private readonly FuzzerOptions _options;
    private readonly string _socketPath;
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
        SharedMemorySweeper.Sweep();
        Block = ControlBlock.Create(slots, maxLen, runsLimit);
        _socketPath = Path.Combine(Path.GetTempPath(), $"kcov-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40] + ".sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(_socketPath));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(_socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(8);
    }

    public ControlBlock Block { get; }

    public IReadOnlyList<ExecutorProcess> Live => _live;

    /// <summary>Executors started after the first one in each slot.</summary>
    public int Restarts { get; private set; }

    public long PeakRssMb { get; private set; }

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
            executor.AppendStderr(e.Data);
            if (_forwardOutput && (_options.CloseFdMask & 2) == 0)
                Console.Error.WriteLine(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        executor.Channel = Accept(executor);
        var hello = executor.Channel.Receive();
        if (hello?.Kind != MessageKind.Hello || hello.Numbers[0] != slot)
            throw new FuzzerUsageException("the executor did not say hello; is the harness calling Kcov.Fuzzing.Fuzzer.Run(args, target) from Main?");
        executor.AreaName = hello.Text;
        executor.Channel.Send(start);
        _live.Add(executor);
        new Thread(() => ReadMessages(executor)) { IsBackground = true, Name = $"kcov-fuzz-executor-{slot}" }.Start();
        return executor;
    }

    /// <summary>
    /// Messages and ends of executors, in arrival order, until none is left. Between events
    /// (every 50 ms) the watchdog checks -timeout, -rss_limit_mb and <paramref name="tick"/>.
    /// </summary>
    public IEnumerable<PoolEvent> Events(Action tick)
    {
        var sinceWatch = Stopwatch.StartNew();
        while (_live.Count > 0)
        {
            // Not per message: a burst of corpus inputs must not mean a burst of /proc reads.
            if (sinceWatch.ElapsedMilliseconds >= 50)
            {
                tick();
                Watch();
                sinceWatch.Restart();
            }
            if (!_events.TryTake(out var e, 50))
                continue;
            if (e.Message is not null)
            {
                if (e.Message.Kind == MessageKind.Done)
                    e.Executor.SaidDone = true;
                yield return e;
                continue;
            }
            _live.Remove(e.Executor);
            yield return Ended(e.Executor);
            e.Executor.Dispose();
        }
    }

    /// <summary>Asks all executors to stop after their current input.</summary>
    public void RequestStop() => Block.RequestStop();

    /// <summary>Sends a message to every live executor but one (-jobs corpus sharing).</summary>
    public void Broadcast(Message message, ExecutorProcess except)
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
        if (executor.SaidDone && exitCode == 0 && executor.Killed == KillReason.None)
        {
            executor.CleanUpSharedMemory();
            return new PoolEvent(executor, null);
        }
        bool inInput = Block.State(executor.Slot) == ControlBlock.StateRunning;
        byte[]? input = inInput ? Block.ReadInput(executor.Slot) : null;
        ulong[] pcs = inInput ? _lastBlocks.Read(executor.AreaName, Block.TraceMode(executor.Slot)) : [];
        var report = executor.Killed switch
        {
            KillReason.Timeout => CrashReport.Timeout(_options.TimeoutSeconds, _lastBlocks.Loop(pcs)),
            KillReason.ShortTimeout => CrashReport.Timeout(_options.TimeoutSeconds, _lastBlocks.Loop(pcs),
                $"timeout: the input ran longer than the short timeout ({ShortTimeoutSeconds} s) of inputs derived from a hanging one"),
            KillReason.KnownHang => CrashReport.Timeout(_options.TimeoutSeconds, _lastBlocks.Loop(pcs),
                $"timeout: the input was stopped after {KnownHangCheckSeconds} s in the loop of a hang already reported"),
            KillReason.Rss => CrashReport.OutOfMemory(executor.PeakRssMb, _options.RssLimitMb),
            _ => CrashReport.FromDeath(executor.StderrTail, exitCode),
        };
        if (inInput)
            report = report.WithLastBlocks(_lastBlocks.Describe(pcs));
        ulong parent = inInput ? Block.Parent(executor.Slot) : 0;
        executor.CleanUpSharedMemory();
        return new PoolEvent(executor, null, report, input, parent);
    }

    private void Watch()
    {
        foreach (var e in _live)
        {
            if (e.Killed != KillReason.None)
                continue;
            long rss = e.RssMb();
            PeakRssMb = Math.Max(PeakRssMb, rss);
            if (_options.RssLimitMb > 0 && rss > _options.RssLimitMb)
            {
                e.Kill(KillReason.Rss);
                continue;
            }
            double stuck = _options.TimeoutSeconds > 0 ? e.SecondsStuck(Block) : 0;
            if (stuck > _options.TimeoutSeconds)
                e.Kill(KillReason.Timeout);
            else if (stuck > Math.Min(ShortTimeoutSeconds, _options.TimeoutSeconds) && Block.ShortTimeout(e.Slot))
                e.Kill(KillReason.ShortTimeout);
            else if (stuck > KnownHangCheckSeconds && KnownHangs.Count > 0 && InKnownLoop(e))
                e.Kill(KillReason.KnownHang);
        }
    }

    /// <summary>Whether the executor's running input is in the loop of a hang already reported (its kcov area says where it is).</summary>
    private bool InKnownLoop(ExecutorProcess e) =>
        _lastBlocks.Loop(_lastBlocks.Read(e.AreaName, Block.TraceMode(e.Slot))) is { } loop && KnownHangs.Contains($"Timeout <- {loop}");

    private void ReadMessages(ExecutorProcess executor)
    {
        while (executor.Channel!.Receive() is { } message)
            _events.Add(new PoolEvent(executor, message));
        _events.Add(new PoolEvent(executor, null));
    }

    private Channel Accept(ExecutorProcess executor)
    {
        var clock = Stopwatch.StartNew();
        while (!_listener.Poll(100_000, SelectMode.SelectRead))
        {
            if (executor.Process.HasExited || clock.Elapsed > StartupLimit)
            {
                executor.Process.WaitForExit();
                string why = executor.Process.HasExited ? $"exited with code {executor.Process.ExitCode}" : "did not connect";
                string last = executor.StderrTail.Trim().Split('\n').LastOrDefault() ?? "";
                throw new FuzzerUsageException($"the executor {why} before it started fuzzing{(last.Length > 0 ? $" ({last.Trim()})" : "")}; run the harness on one input file to see why");
            }
        }
        return new Channel(_listener.Accept());
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
        info.Environment[ExecutorMain.EnvironmentVariable] = $"{_socketPath}|{Block.Path}|{slot}";
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
            e.CleanUpSharedMemory();
            e.Dispose();
        }
        _live.Clear();
        _listener.Dispose();
        try { File.Delete(_socketPath); } catch (IOException) { }
        Block.Dispose();
        Block.Unlink();
    }
}
