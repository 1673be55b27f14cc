using System.Diagnostics;
using System.Globalization;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Status lines in libFuzzer's shape, on stderr as libFuzzer prints them, so that tools that
/// parse libFuzzer logs parse ours:
/// <c>#N\tNEW    cov: X ft: Y corp: A/Bb lim: L exec/s: E rss: RMb L: n/max MS: k Names-</c>.
/// With a <see cref="LiveView"/> (stderr is a terminal) the same events go to the view instead.
/// </summary>
internal sealed class StatusPrinter(int verbosity, LiveView? live = null)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public TimeSpan Elapsed => _clock.Elapsed;

    public long ExecsPerSecond(long execs) => _clock.Elapsed.TotalSeconds < 1 ? execs : (long)(execs / _clock.Elapsed.TotalSeconds);

    public void Line(long execs, string what, FuzzStats s, long rssMb, string suffix = "")
    {
        if (verbosity <= 0)
            return;
        string line = string.Create(CultureInfo.InvariantCulture,
            $"#{execs}\t{what,-6} cov: {s.Cov} ft: {s.Features} corp: {s.CorpusCount}/{Size(s.CorpusBytes)} lim: {s.LengthLimit} exec/s: {ExecsPerSecond(execs)} rss: {rssMb}Mb{suffix}");
        if (live is null)
        {
            Console.Error.WriteLine(line);
            return;
        }
        live.Update(execs, ExecsPerSecond(execs), s, rssMb, Elapsed);
        if (what != "pulse")
            live.Log(Spectre.Console.Markup.Escape(line.Replace('\t', ' ')));
    }

    /// <summary>Keeps the live view's numbers current between status lines (no line is printed).</summary>
    public void Refresh(long execs, FuzzStats s, long rssMb) => live?.Update(execs, ExecsPerSecond(execs), s, rssMb, Elapsed);

    public void Info(string text) => Write($"INFO: {text}", text);

    /// <summary>A line in libFuzzer's words as they are, without "INFO: " (tools match some from the line's start).</summary>
    public void Plain(string line) => Write(line, line);

    private void Write(string line, string inView)
    {
        if (verbosity <= 0)
            return;
        if (live is null)
            Console.Error.WriteLine(line);
        else
            live.Log(Spectre.Console.Markup.Escape(inView));
    }

    /// <summary>A finding's report: printed now, or kept by the view until it closes.</summary>
    public void Report(string summary, string text)
    {
        if (live is null)
            Console.Error.Write(text);
        else
            live.Finding(summary, text);
    }

    private static string Size(long bytes) =>
        bytes < 1 << 14 ? $"{bytes}b" : bytes < 1 << 24 ? $"{bytes >> 10}Kb" : $"{bytes >> 20}Mb";
}
