using System.Diagnostics;

// Linked into the test projects that need it (see their .csproj), so it is written once.
namespace Kcov.Tests;

/// <summary>Runs <c>dotnet args...</c> as a child process and captures what it printed.</summary>
internal static class DotnetProcess
{
    /// <summary>The dotnet host running the tests (the test host is a dotnet process), else dotnet from PATH.</summary>
    private static string Host =>
        Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";

    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) => Run(StartInfo(args));

    /// <summary><c>dotnet args...</c> with stdout and stderr redirected, to run (perhaps wrapped, see PrivateShm) with <see cref="Run(ProcessStartInfo)"/>.</summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var start = new ProcessStartInfo(Host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return start;
    }

    public static (int ExitCode, string Stdout, string Stderr) Run(ProcessStartInfo start)
    {
        using var process = Process.Start(start)!;
        // Both pipes at once: a child that fills one while we wait on the other would block forever.
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }
}
