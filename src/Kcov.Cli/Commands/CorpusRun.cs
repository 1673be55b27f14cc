using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Kcov.Cli.Commands;

/// <summary>
/// <c>dotnet kcov report --corpus DIR -- harness.dll [args]</c>'s runs: the harness (Kcov.Fuzzing's
/// CorpusCoverage mode) runs every input of the corpus once under its own kcov device, the area reset per
/// input, and sends each input's PCs with their counts through a pipe; they are summed here, in memory.
/// An input that throws is reported in one line and its coverage up to the throw is counted (what
/// <c>dotnet kcov run</c> of that file records); one that hangs past the timeout or ends the harness
/// (stack overflow, FailFast, an exception on another thread) is reported in one line, not counted, and the
/// harness is started again on the inputs after it. Nothing is written to disk but the list of inputs.
/// </summary>
internal sealed class CorpusRun(Streams io, string harness, string[] harnessArgs, int timeoutSeconds)
{
    /// <summary>Each PC the corpus ran, with the number of times it ran, summed over the inputs.</summary>
    public Dictionary<ulong, long> Counts { get; } = [];

    /// <summary>Inputs that threw, hung or ended the harness.</summary>
    public int Failed { get; private set; }

    public static List<string> Inputs(string corpus)
    {
        if (!Directory.Exists(corpus))
            throw new UserErrorException($"corpus directory '{corpus}' does not exist; pass the directory of inputs (e.g. the fuzzer's corpus).");
        // The order CorpusDirectory reads a corpus in: every file below it, by ordinal path.
        var files = Directory.EnumerateFiles(corpus, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new UserErrorException($"corpus directory '{corpus}' has no input files; nothing to report.");
        return files;
    }

    /// <summary>Fails with one line unless <paramref name="harness"/> is a .dll that references Kcov.Fuzzing.</summary>
    public static void CheckHarness(string harness)
    {
        if (!File.Exists(harness) || !harness.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            throw new UserErrorException($"'{harness}' is not a harness .dll; pass the instrumented harness after --, e.g. -- kcov-fuzz/MyFuzzer.dll.");
        bool references;
        try
        {
            using var pe = new PEReader(File.OpenRead(harness));
            var md = pe.GetMetadataReader();
            references = md.AssemblyReferences.Any(r => md.GetString(md.GetAssemblyReference(r).Name) == "Kcov.Fuzzing");
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException)
        {
            throw new UserErrorException($"'{harness}' is not a .NET assembly ({e.Message}); pass the harness's .dll.", e);
        }
        if (!references)
            throw new UserErrorException($"'{harness}' is not a fuzz harness (it does not reference Kcov.Fuzzing); --corpus runs the inputs through a harness whose Main returns Kcov.Fuzzing.Fuzzer.Run(args, target).");
    }

    public void Run(IReadOnlyList<string> inputs)
    {
        string list = Path.Combine(Path.GetTempPath(), $"kcov-report-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            for (int from = 0; from < inputs.Count;)
                from = RunFrom(inputs, from, list);
        }
        finally
        {
            File.Delete(list);
        }
    }

    /// <summary>Runs the harness on inputs[from..] until it ends or fails; returns the index to go on from.</summary>
    private int RunFrom(IReadOnlyList<string> inputs, int from, string list)
    {
        File.WriteAllLines(list, inputs.Skip(from).Select(Path.GetFullPath));
        var start = new ProcessStartInfo(RunCommand.DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(harness);
        foreach (string arg in harnessArgs)
            start.ArgumentList.Add(arg);
        start.Environment["KCOV_REPORT_INPUTS"] = list;
        using var child = Process.Start(start)!;
        var lines = new BlockingCollection<string?>();
        var lastError = new string[1];
        var readOut = Task.Run(() =>
        {
            while (child.StandardOutput.ReadLine() is { } line)
                lines.Add(line);
            lines.Add(null);
        });
        // The target's output and the harness's notes: drained (a full pipe would stop the harness), the last line kept.
        var readErr = Task.Run(() =>
        {
            while (child.StandardError.ReadLine() is { } line)
            {
                if (line.Length > 0)
                    lastError[0] = line;
            }
        });
        int current = -1;
        bool started = false;
        var pcs = new Dictionary<ulong, long>();
        var clock = Stopwatch.StartNew();
        try
        {
            while (true)
            {
                // The clock runs from the harness's start, each input's start and each input's end.
                if (!lines.TryTake(out string? line, TimeSpan.FromSeconds(Math.Max(0, timeoutSeconds - clock.Elapsed.TotalSeconds))))
                {
                    child.Kill(entireProcessTree: true);
                    if (current < 0)
                        throw new UserErrorException($"'{harness}' started no input for {timeoutSeconds} s (--timeout); check that it runs by itself: dotnet {harness} -help=1.");
                    Report(inputs[from + current], $"timed out after {timeoutSeconds} s; its coverage is not counted");
                    return from + current + 1;
                }
                if (line is null)
                {
                    child.WaitForExit();
                    readErr.Wait();
                    if (!started)
                        throw new UserErrorException($"'{harness}' exited with code {child.ExitCode} without running the corpus" +
                            (lastError[0] is { } said ? $" (it said: {said.Trim()})" : "") + "; is it a harness of this dotnet-kcov's Kcov.Fuzzing, and are its arguments right?");
                    if (current < 0)
                        throw new UserErrorException($"'{harness}' exited with code {child.ExitCode} between inputs, after '{inputs[from]}'.");
                    Report(inputs[from + current], $"ended the harness (exit code {child.ExitCode}); its coverage is not counted; see why with dotnet {harness} {string.Join(' ', harnessArgs)} {inputs[from + current]}".Replace("  ", " "));
                    return from + current + 1;
                }
                started = true;
                int space = line.IndexOf(' ');
                string verb = space < 0 ? line : line[..space];
                string rest = space < 0 ? "" : line[(space + 1)..];
                switch (verb)
                {
                    case "run":
                        current = int.Parse(rest, CultureInfo.InvariantCulture);
                        pcs.Clear();
                        clock.Restart();
                        break;
                    case "pc":
                        int split = rest.IndexOf(' ');
                        pcs[ulong.Parse(rest.AsSpan(0, split), NumberStyles.HexNumber, CultureInfo.InvariantCulture)] =
                            long.Parse(rest.AsSpan(split + 1), CultureInfo.InvariantCulture);
                        break;
                    case "full":
                        io.Error.WriteLine($"kcov: note: '{inputs[from + current]}' filled the kcov area, so its later PCs were dropped; pass a larger -kcov_area_words=N after the harness.");
                        break;
                    case "crash":
                        Report(inputs[from + current], $"crashed: {rest[(rest.IndexOf(' ') + 1)..]} (its coverage up to the crash is counted)");
                        break;
                    case "done":
                        foreach (var (pc, n) in pcs)
                            Counts[pc] = Counts.GetValueOrDefault(pc) + n;
                        current = -1;
                        clock.Restart();
                        break;
                    case "end":
                        child.WaitForExit();
                        return inputs.Count;
                    default:
                        throw new UserErrorException($"'{harness}' wrote '{line}' where kcov expected its corpus protocol; is its Kcov.Fuzzing that of this dotnet-kcov?");
                }
            }
        }
        finally
        {
            if (!child.HasExited)
                child.Kill(entireProcessTree: true);
            child.WaitForExit();
            readOut.Wait();
        }
    }

    private void Report(string input, string what)
    {
        Failed++;
        io.Error.WriteLine($"kcov: input '{input}' {what}.");
    }
}
