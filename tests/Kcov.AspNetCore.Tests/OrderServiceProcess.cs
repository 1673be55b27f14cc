using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Kcov.Control;
using Kcov.Instrumentation;

namespace Kcov.AspNetCore.Tests;

/// <summary>
/// samples/OrderService, instrumented by the real instrumenter (trace-pc and trace-cmp) and run as
/// a service of its own: <c>dotnet OrderService.dll --urls http://127.0.0.1:0</c> with
/// <c>KCOV_CONTROL</c> set, as a user would run it. Stopped with SIGTERM, so the host shuts down
/// and the endpoint closes its descriptors.
/// </summary>
internal sealed partial class OrderServiceProcess : IDisposable
{
    /// <summary>Only a guard against a wedged child: tests never assert on time.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(2);

    private static readonly Lazy<string> s_app = new(Build);

    private readonly StringBuilder _output = new();
    private readonly object _lock = new(); // guards _output

    private OrderServiceProcess(Process process, string socket)
    {
        Process = process;
        Socket = socket;
    }

    /// <summary>The instrumented application (built once per test run).</summary>
    public static string AppDirectory => s_app.Value;

    public Process Process { get; }

    public string Socket { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Everything the service printed so far (its console log).</summary>
    public string Output { get { lock (_lock) return _output.ToString(); } }

    public static OrderServiceProcess Start(string socket)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Path.Combine(AppDirectory, "OrderService.dll"), "--urls", "http://127.0.0.1:0", "--Restock:IntervalMs", "20" })
            info.ArgumentList.Add(arg);
        info.Environment[KcovControlServer.EnvironmentVariable] = socket;
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
                service._output.AppendLine(line);
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
            Assert.True(File.Exists(socket), $"no control socket at {socket}:\n{service.Output}");
        }
        catch
        {
            service.Dispose();
            throw;
        }
        return service;
    }

    /// <summary>SIGTERM and wait: the host stops, the endpoint closes every descriptor.</summary>
    public void Dispose()
    {
        if (!Process.HasExited)
        {
            _ = kill(Process.Id, 15);
            if (!Process.WaitForExit(Guard))
                Process.Kill(entireProcessTree: true);
        }
        Process.WaitForExit();
        Process.Dispose();
    }

    private static string Build()
    {
        string source = AppContext.BaseDirectory;
        string app = Directory.CreateTempSubdirectory("kcov-order-service-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(app, recursive: true); } catch (IOException) { }
        };
        foreach (var file in Directory.EnumerateFiles(source))
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        AssemblyInstrumenter.Instrument(Path.Combine(source, "OrderService.dll"), app, new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });
        return app;
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex Listening();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
