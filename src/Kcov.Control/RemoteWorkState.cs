namespace Kcov.Control;

/// <summary>
/// The work in flight and the faults met under one watched handle since the client's last wait.
/// </summary>
internal sealed class RemoteWorkState(ulong handle)
{
    /// <summary>Faults kept between two waits; more are counted, not kept (a fuzzer needs the first).</summary>
    internal const int MaxReports = 16;

    /// <summary>Characters kept of one fault report (an exception's text with its stack).</summary>
    internal const int MaxReportChars = 16 * 1024;

    private readonly object _lock = new(); // guards everything below; waiters wait on it
    private readonly List<string> _reports = [];
    private int _inFlight;
    private int _dropped;
    private bool _aborted;

    public ulong Handle { get; } = handle;

    public RemoteWorkItem Begin()
    {
        lock (_lock)
            _inFlight++;
        return new RemoteWorkItem(this);
    }

    public void End(string? report)
    {
        lock (_lock)
        {
            _inFlight--;
            if (report is not null)
            {
                if (_reports.Count < MaxReports)
                    _reports.Add(report.Length <= MaxReportChars ? report : report[..MaxReportChars]);
                else
                    _dropped++;
            }
            if (_inFlight == 0)
                Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Wakes a wait for good (its session is closing).</summary>
    public void Abort()
    {
        lock (_lock)
        {
            _aborted = true;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>
    /// Waits until nothing is in flight, then hands over (and forgets) the faults. False if work
    /// was still in flight after <paramref name="timeout"/>, or the wait was aborted; the faults are then kept.
    /// </summary>
    public bool WaitIdle(TimeSpan timeout, out List<string> reports)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_lock)
        {
            while (_inFlight > 0)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0 || _aborted)
                {
                    reports = [];
                    return false;
                }
                Monitor.Wait(_lock, TimeSpan.FromMilliseconds(left));
            }
            reports = [.. _reports];
            if (_dropped > 0)
                reports[^1] += $"{Environment.NewLine}({_dropped} more fault(s) under this handle since the last wait were not kept)";
            _reports.Clear();
            _dropped = 0;
            return true;
        }
    }
}
