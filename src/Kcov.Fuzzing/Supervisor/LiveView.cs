using System.Globalization;
using Kcov.Fuzzing.Ipc;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// The terminal face of a campaign (when stderr is a terminal): a Spectre.Console live table of
/// the same numbers the status lines carry, the latest corpus and finding events, and the
/// findings' full reports printed once the view closes (a live display and other writes to the
/// console do not mix).
/// </summary>
internal sealed class LiveView : IDisposable
{
    private const int LogLines = 8;

    private readonly object _lock = new(); // guards every field below that the render thread reads
    private readonly Queue<string> _log = new();
    private readonly List<string> _reports = [];
    private readonly IAnsiConsole _console;
    private readonly Thread _thread;
    private volatile bool _stop;
    private FuzzStats _stats;
    private long _execs, _execsPerSecond, _rssMb;
    private int _findings;
    private TimeSpan _elapsed;

    public LiveView(TextWriter output, string title)
    {
        _console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        Title = title;
        _thread = new Thread(Show) { IsBackground = true, Name = "kcov-fuzz-live-view" };
        _thread.Start();
    }

    public string Title { get; }

    public void Update(long execs, long execsPerSecond, FuzzStats stats, long rssMb, TimeSpan elapsed)
    {
        lock (_lock)
        {
            (_execs, _execsPerSecond, _stats, _rssMb, _elapsed) = (execs, execsPerSecond, stats, rssMb, elapsed);
        }
    }

    public void Log(string line)
    {
        lock (_lock)
        {
            _log.Enqueue(line);
            while (_log.Count > LogLines)
                _log.Dequeue();
        }
    }

    /// <summary>A finding: one line in the view now, the whole report after the view closes.</summary>
    public void Finding(string summary, string report)
    {
        lock (_lock)
        {
            _findings++;
            _reports.Add(report);
        }
        Log($"[red]{Markup.Escape(summary)}[/]");
    }

    /// <summary>What the view shows now.</summary>
    public IRenderable Render()
    {
        lock (_lock)
        {
            var numbers = new Grid().AddColumn().AddColumn();
            void Row(string name, string value) => numbers.AddRow($"[grey]{name}[/]", value);
            Row("executions", _execs.ToString("N0", CultureInfo.InvariantCulture));
            Row("exec/s", _execsPerSecond.ToString("N0", CultureInfo.InvariantCulture));
            Row("cov (blocks)", _stats.Cov.ToString(CultureInfo.InvariantCulture));
            Row("ft (features)", _stats.Features.ToString(CultureInfo.InvariantCulture));
            Row("corpus", $"{_stats.CorpusCount} inputs, {_stats.CorpusBytes} bytes");
            Row("length limit", _stats.LengthLimit.ToString(CultureInfo.InvariantCulture));
            Row("rss", $"{_rssMb} Mb");
            Row("findings", _findings == 0 ? "0" : $"[red]{_findings}[/]");
            Row("area overflows", _stats.Overflows.ToString(CultureInfo.InvariantCulture));
            Row("elapsed", _elapsed.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture));
            var log = new Rows(_log.Count == 0 ? [new Markup("[grey]waiting for the first corpus input[/]")] : _log.Select(l => new Markup(l)).ToArray());
            return new Rows(
                new Panel(numbers).Header(Markup.Escape(Title)).Border(BoxBorder.Rounded),
                new Panel(log).Header("latest").Border(BoxBorder.Rounded));
        }
    }

    private void Show()
    {
        _console.Live(Render()).Start(context =>
        {
            while (!_stop)
            {
                context.UpdateTarget(Render());
                Thread.Sleep(250);
            }
            context.UpdateTarget(Render());
        });
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
        lock (_lock)
            foreach (var report in _reports)
                _console.Profile.Out.Writer.Write(report);
    }
}
