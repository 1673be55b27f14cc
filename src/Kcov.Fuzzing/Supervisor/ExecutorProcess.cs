using System.Diagnostics;
using System.Text;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// One executor as the supervisor sees it: the child process, its channel, the tail of its
/// stderr (where the runtime writes "Stack overflow." and FailFast's last words), and the
/// watchdog state for -timeout and -rss_limit_mb.
/// </summary>
internal sealed class ExecutorProcess : IDisposable
{
    private const int StderrTailChars = 64 * 1024;
    private const int LastWordsLines = 4096;

    /// <summary>Lines of the runtime's fatal report shown as they come; the rest (a stack overflow can print 100,000 frames) only counted.</summary>
    private const int ShownLastWordsLines = 64;

    private readonly StringBuilder _stderrTail = new();
    private readonly StringBuilder _lastWords = new();
    private int _lastWordsLines;
    private readonly object _tailLock = new(); // guards _stderrTail, _lastWords*, _dying (written by the stderr reader thread)
    private readonly Stopwatch _sinceHeartbeat = Stopwatch.StartNew();
    private readonly Stopwatch _dying = new();
    private long _lastHeartbeat = -1;
    private long _lastRssMb;

    public ExecutorProcess(int slot, Process process)
    {
        Slot = slot;
        Process = process;
    }

    public int Slot { get; }
    public Process Process { get; }
    public Channel? Channel { get; set; }

    /// <summary>The executor's kcov area, mapped at its Hello (null where there is no /proc); read after it dies.</summary>
    public ExecutorArea? Area { get; set; }

    /// <summary>What the executor wrote that made the supervisor kill it (<see cref="KillReason.Garbage"/>), or null.</summary>
    public string? Garbage { get; private set; }

    /// <summary>Why the supervisor killed it, if it did.</summary>
    public KillReason Killed { get; set; }

    /// <summary>Whether it fuzzes (the mode of its Start message): only then may a hanging input's thread be parked.</summary>
    public bool Fuzzes { get; set; }

    /// <summary>A park the supervisor asked for and the executor has not answered yet (<see cref="ExecutorPool"/>), or null.</summary>
    public ParkRequest? Parking { get; set; }

    /// <summary>Threads of this executor parked in a hanging input (each keeps its stack and what it allocated).</summary>
    public int ParkedThreads { get; set; }

    /// <summary>The executor said Done before exiting: a normal end.</summary>
    public bool SaidDone { get; set; }

    public long PeakRssMb { get; private set; }

    /// <summary>
    /// Keeps the tail of the executor's stderr, and, from the runtime's first line of a fatal report
    /// on ("Stack overflow." and the like), the report's first lines: a stack overflow's frames can run
    /// to hundreds of thousands of lines, which a tail alone would keep without their first line.
    /// Returns whether the line is worth showing: the first lines of a fatal report are, the flood after them is not.
    /// </summary>
    public bool AppendStderr(string line)
    {
        lock (_tailLock)
        {
            _stderrTail.Append(line).Append('\n');
            if (_stderrTail.Length > StderrTailChars)
                _stderrTail.Remove(0, _stderrTail.Length - StderrTailChars);
            if (_lastWordsLines == 0 && !Crashes.CrashReport.IsFatalMarker(line))
                return true;
            if (_lastWordsLines == 0)
                _dying.Start();
            if (_lastWordsLines++ < LastWordsLines)
                _lastWords.Append(line).Append('\n');
            if (_lastWordsLines <= ShownLastWordsLines)
                return true;
            HiddenLines++;
            return false;
        }
    }

    /// <summary>Lines of the runtime's fatal report that <see cref="AppendStderr"/> said not to show.</summary>
    public int HiddenLines { get; private set; }

    /// <summary>How long ago the runtime began its fatal report (zero if it has not): the process is dying, not hanging.</summary>
    public TimeSpan DyingFor { get { lock (_tailLock) return _dying.Elapsed; } }

    /// <summary>The runtime's fatal report if one was seen, else the tail of stderr.</summary>
    public string StderrTail { get { lock (_tailLock) return _lastWordsLines > 0 ? _lastWords.ToString() : _stderrTail.ToString(); } }

    /// <summary>Seconds the current input has been running without the heartbeat moving (0 when idle).</summary>
    public double SecondsStuck(ControlBlock block)
    {
        long beat = block.Heartbeat(Slot);
        if (beat != _lastHeartbeat || block.State(Slot) != ControlBlock.StateRunning)
        {
            _lastHeartbeat = beat;
            _sinceHeartbeat.Restart();
            return 0;
        }
        return _sinceHeartbeat.Elapsed.TotalSeconds;
    }

    /// <summary>Resident set size in MB from /proc/&lt;pid&gt;/status (VmRSS); the last value read once the process is gone.</summary>
    /// <summary>The resident set size read last (MB), without reading /proc again.</summary>
    public long LastRssMb => _lastRssMb;

    public long RssMb()
    {
        if (Process.HasExited)
            return _lastRssMb;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Process.Id}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    continue;
                long kb = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
                _lastRssMb = kb / 1024;
                PeakRssMb = Math.Max(PeakRssMb, _lastRssMb);
                return _lastRssMb;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException) { }
        return _lastRssMb;
    }

    public void Kill(KillReason reason)
    {
        Killed = reason;
        try { Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    /// <summary>The executor wrote <paramref name="what"/> where it may not: it is killed, and the supervisor believes nothing more from it.</summary>
    public void KillForGarbage(string what)
    {
        Garbage ??= what;
        Kill(KillReason.Garbage);
    }

    public void Dispose()
    {
        Channel?.Dispose();
        Area?.Dispose();
        Process.Dispose();
    }
}

/// <summary>
/// A hanging input the supervisor asked its executor to leave by parking its thread: everything the
/// report needs, read when it was asked (the executor's next input overwrites the slot and the area),
/// and why it was ended, which the answer turns into a finding or, if it was not parked, into a kill.
/// </summary>
internal sealed record ParkRequest(long Heartbeat, KillReason Reason, Crashes.CrashReport Report, byte[] Input, ulong Parent)
{
    public Stopwatch Since { get; } = Stopwatch.StartNew();
}
