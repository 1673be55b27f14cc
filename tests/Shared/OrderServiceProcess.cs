using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

// Linked into the projects that run the sample service (see their .csproj), so it is written once.
namespace Kcov.Tests;

/// <summary>
/// samples/OrderService run as a service of its own, as a user runs it:
/// <c>dotnet OrderService.dll --urls http://127.0.0.1:0</c> with <c>KCOV_CONTROL</c> set. Stopped
/// with SIGTERM, so the host shuts down and the endpoint closes its descriptors.
/// </summary>
internal sealed partial class OrderServiceProcess : IDisposable
{
    /// <summary>Only a guard against a wedged child: nothing asserts on time.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(2);

    /// <summary>Characters of the service's output kept: its start-up, or the end of a long run.</summary>
    private const int OutputTail = 64 * 1024;

    private readonly StringBuilder _output = new();
    private readonly object _lock = new(); // guards _output
    private int _disposed;

    private OrderServiceProcess(Process process, string socket)
    {
        Process = process;
        Socket = socket;
    }

    public Process Process { get; }

    public string Socket { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>What the service printed (its console log), the last 64 K characters of it.</summary>
    public string Output { get { lock (_lock) return _output.ToString(); } }

    /// <summary>Starts <c>OrderService.dll</c> of <paramref name="appDirectory"/> with its endpoint at <paramref name="socket"/>, and more arguments.</summary>
    public static OrderServiceProcess Start(string appDirectory, string socket, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(appDirectory, "OrderService.dll"), "--urls", "http://127.0.0.1:0" }.Concat(args))
            info.ArgumentList.Add(arg);
        info.Environment["KCOV_CONTROL"] = socket;
        var service = new OrderServiceProcess(new Process { StartInfo = info }, socket);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                listening.TrySetException(new InvalidOperationException($"the service exited before it listened:\n{service.Output}"));
                return;
            }
            lock (service._lock)
            {
                service._output.AppendLine(line);
                if (service._output.Length > OutputTail)
                    service._output.Remove(0, service._output.Length - OutputTail);
            }
            if (Listening().Match(line) is { Success: true } match)
                listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
        service.Process.OutputDataReceived += (_, e) => OnLine(e.Data);
        service.Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) OnLine(e.Data); };
        service.Process.Start();
        service.Process.BeginOutputReadLine();
        service.Process.BeginErrorReadLine();
        try
        {
            if (!listening.Task.Wait(Guard))
                throw new TimeoutException($"the service did not start listening:\n{service.Output}");
            service.BaseAddress = listening.Task.Result;
            // The endpoint is a hosted service started before Kestrel: its socket exists by now.
            if (!File.Exists(socket))
                throw new InvalidOperationException($"no control socket at {socket}:\n{service.Output}");
        }
        catch
        {
            service.Dispose();
            throw;
        }
        return service;
    }

    /// <summary>SIGTERM and wait: the host stops, the endpoint closes every descriptor. Once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (!Process.HasExited)
        {
            _ = kill(Process.Id, 15);
            if (!Process.WaitForExit(Guard))
                Process.Kill(entireProcessTree: true);
        }
        Process.WaitForExit();
        Process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
