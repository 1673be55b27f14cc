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

    public Process Process { get; }
    private readonly List<string> _stderrLines = [];

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "Kcov.Fuzzing.TestHarness.dll");

    public static HarnessProcess Start(string workDir, params string[] args) => Start(workDir, Dll, args);

    /// <summary>Starts <c>dotnet <paramref name="dll"/> args...</c>.</summary>
    public static HarnessProcess Start(string workDir, string dll, string[] args)
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
        var process = new Process { StartInfo = info };
        var harness = new HarnessProcess(process);
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
