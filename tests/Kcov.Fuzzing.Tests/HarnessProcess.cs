using Kcov.Tests;
using System.Diagnostics;
using System.Text;

namespace Kcov.Fuzzing.Tests;

/// <summary>Starts the test harness (a real fuzzer executable) as a child process in a scratch directory.</summary>
internal sealed class HarnessProcess : IDisposable
{
    /// <summary>Only a guard against a wedged child: tests never assert on time.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(5);

    private readonly StringBuilder _stdout = new(), _stderr = new();
    private readonly object _lock = new(); // guards _stdout, _stderr, _stderrLines

    private HarnessProcess(Process process) => Process = process;

    private bool _wrapped;
    private string _dll = "";

    /// <summary>The process started: the harness, or the shell around it (private /dev/shm).</summary>
    public Process Process { get; }

    /// <summary>The harness's own process id (the supervisor), also when a shell wraps it.</summary>
    public int SupervisorPid
    {
        get
        {
            if (!_wrapped)
                return Process.Id;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < Guard)
            {
                foreach (var proc in Directory.GetDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
                {
                    try
                    {
                        string stat = File.ReadAllText(Path.Combine(proc, "stat"));
                        int parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                        if (parent == Process.Id && File.ReadAllText(Path.Combine(proc, "cmdline")).Contains(_dll, StringComparison.Ordinal))
                            return int.Parse(Path.GetFileName(proc));
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
                }
                Thread.Sleep(20);
            }
            throw new TimeoutException("the harness did not start under its shell");
        }
    }

    /// <summary>What the harness and its executors left in their private /dev/shm, once the wrapper has ended.</summary>
    public string[] SharedMemoryLeft => PrivateShm.Left(Stdout);
    private readonly List<string> _stderrLines = [];

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "Kcov.Fuzzing.TestHarness.dll");

    public static HarnessProcess Start(string workDir, params string[] args) => Start(workDir, Dll, args);

    /// <summary>
    /// Starts <c>dotnet <paramref name="dll"/> args...</c>; with <paramref name="privateShm"/>, in a /dev/shm of
    /// its own (see <see cref="PrivateShm"/>), listed on stdout when it and everything it started have ended.
    /// </summary>
    public static HarnessProcess Start(string workDir, string dll, string[] args, bool privateShm = false, IDictionary<string, string>? environment = null) =>
        Start(workDir, dll, args, privateShm ? info => PrivateShm.Wrap(info) : null, environment);

    /// <summary>Starts the harness as <paramref name="wrap"/> wraps it (a <see cref="PrivateShm"/> wrapper), or alone.</summary>
    public static HarnessProcess Start(string workDir, string dll, string[] args, Func<ProcessStartInfo, ProcessStartInfo>? wrap, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        var process = new Process { StartInfo = wrap is null ? info : wrap(info) };
        var harness = new HarnessProcess(process) { _wrapped = wrap is not null, _dll = dll };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (harness._lock) harness._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (harness._lock)
            {
                harness._stderr.AppendLine(e.Data);
                harness._stderrLines.Add(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return harness;
    }

    /// <summary>Runs to the end; returns (exit code, stdout, stderr).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string workDir, params string[] args) => Run(workDir, Dll, args);

    public static (int ExitCode, string Stdout, string Stderr) Run(string workDir, string dll, string[] args)
    {
        using var h = Start(workDir, dll, args);
        h.WaitForExit();
        return (h.Process.ExitCode, h.Stdout, h.Stderr);
    }

    /// <summary>Runs to the end in a /dev/shm of its own; also returns what was left there.</summary>
    public static (int ExitCode, string Stdout, string Stderr, string[] ShmLeft) RunPrivateShm(string workDir, string dll, string[] args, IDictionary<string, string>? environment = null)
    {
        using var h = Start(workDir, dll, args, privateShm: true, environment);
        h.WaitForExit();
        return (h.Process.ExitCode, PrivateShm.Output(h.Stdout), h.Stderr, h.SharedMemoryLeft);
    }


    public string Stdout { get { lock (_lock) return _stdout.ToString(); } }
    public string Stderr { get { lock (_lock) return _stderr.ToString(); } }
    public List<string> StderrLines { get { lock (_lock) return [.. _stderrLines]; } }

    public void WaitForExit()
    {
        if (!Process.WaitForExit(Guard))
        {
            Process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the harness did not finish; stderr so far:\n{Stderr}");
        }
        Process.WaitForExit();
    }

    /// <summary>Waits until stderr has <paramref name="count"/> lines matching; false if the process ended first.</summary>
    public bool WaitForLines(Func<string, bool> match, int count)
    {
        var clock = Stopwatch.StartNew();
        while (StderrLines.Count(match) < count)
        {
            if (Process.HasExited || clock.Elapsed > Guard)
                return StderrLines.Count(match) >= count;
            Thread.Sleep(20);
        }
        return true;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
            Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
