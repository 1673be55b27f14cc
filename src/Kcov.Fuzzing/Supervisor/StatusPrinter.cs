using System.Diagnostics;
using System.Globalization;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Status lines in libFuzzer's shape, on stderr as libFuzzer prints them, so that tools that
/// parse libFuzzer logs parse ours:
/// <c>#N\tNEW    cov: X ft: Y corp: A/Bb lim: L exec/s: E rss: RMb L: n/max MS: k Names-</c>.
/// </summary>
internal sealed class StatusPrinter(int verbosity)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _nextPulse = 2;

    public TimeSpan Elapsed => _clock.Elapsed;

    public long ExecsPerSecond(long execs) => _clock.Elapsed.TotalSeconds < 1 ? execs : (long)(execs / _clock.Elapsed.TotalSeconds);

    public void Line(long execs, string what, FuzzStats s, long rssMb, string suffix = "")
    {
        if (verbosity <= 0)
            return;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"#{execs}\t{what,-6} cov: {s.Cov} ft: {s.Features} corp: {s.CorpusCount}/{Size(s.CorpusBytes)} lim: {s.LengthLimit} exec/s: {ExecsPerSecond(execs)} rss: {rssMb}Mb{suffix}"));
    }

    /// <summary>A "pulse" line each time the execution count passes a power of two.</summary>
    public void MaybePulse(long execs, FuzzStats s, long rssMb)
    {
        if (execs < _nextPulse)
            return;
        while (_nextPulse <= execs)
            _nextPulse *= 2;
        Line(execs, "pulse", s, rssMb);
    }

    public void Info(string text)
    {
        if (verbosity > 0)
            Console.Error.WriteLine($"INFO: {text}");
    }

    private static string Size(long bytes) =>
        bytes < 1 << 14 ? $"{bytes}b" : bytes < 1 << 24 ? $"{bytes >> 10}Kb" : $"{bytes >> 20}Mb";
}
