using System.Diagnostics;
using System.Globalization;
using Kcov.Instrumentation;
using Kcov.Workloads;

/// <summary>
/// Run-time overhead the way users run instrumented code: every configuration runs in a process of
/// its own (<see cref="OverheadChild"/>), with the library loaded by the default load context from
/// the application directory (a copy of this bench's output with the library replaced by a build),
/// tiered compilation and dynamic PGO as the runtime sets them, warmed up until the JIT is idle.
/// Rounds are interleaved (each round runs every configuration once, in a rotated order), so drift
/// on a shared machine hits them alike; each configuration's figure is the min and the median over
/// rounds of the per-process median time per pass, and ratios are to the original's min and median.
/// The SharpFuzz-scheme build (InstrumentationOptions.SharpFuzzEdgeMap) is the in-run reference
/// for what a global edge bitmap costs: every traced figure is also given against it.
/// </summary>
static class Overhead
{
    private sealed record Build(string Name, InstrumentationOptions? Options);
    private sealed record Configuration(string Name, Build Build, string Mode);

    private static readonly Build Original = new("original", null);
    private static readonly Build SharpFuzz = new("SharpFuzz scheme", new() { Trace = TraceModes.Pc, SharpFuzzEdgeMap = true });
    private static readonly Build Pc = new("pc", new() { Trace = TraceModes.Pc });
    private static readonly Build PcNoPrune = new("pc, --no-prune", new() { Trace = TraceModes.Pc, Prune = false });
    private static readonly Build PcCmp = new("pc,cmp", new() { Trace = TraceModes.Pc | TraceModes.Cmp });

    private static readonly Configuration[] Configurations =
    [
        new("original", Original, "none"),
        new("SharpFuzz-scheme build (always on)", SharpFuzz, "none"),
        new("pc build, no device", Pc, "none"),
        new("pc build, trace-pc", Pc, "pc"),
        new("pc build, unique mode", Pc, "unique"),
        new("pc,cmp build, no device", PcCmp, "none"),
        new("pc,cmp build, trace-pc", PcCmp, "pc"),
        new("pc,cmp build, trace-cmp", PcCmp, "cmp"),
        new("pc build --no-prune, trace-pc", PcNoPrune, "pc"),
    ];

    /// <param name="rounds">Rounds (one process per configuration per round).</param>
    /// <param name="libraries">Library workloads to measure (default Markdig and YamlDotNet).</param>
    /// <param name="cpuClock">Use each process's thread CPU time instead of the wall clock (for a machine busy with other work).</param>
    public static void Measure(int rounds, IReadOnlyList<string> libraries, bool cpuClock)
    {
        Console.WriteLine($"## Run-time overhead ({(cpuClock ? "thread CPU time" : "wall clock")}; one process per configuration per round, interleaved)");
        Console.WriteLine();
        string root = Path.Combine(Path.GetTempPath(), "kcov-overhead-" + Environment.ProcessId);
        try
        {
            foreach (var workload in LibraryWorkload.All.Where(w => libraries.Contains(w.Name)))
                Measure(workload, root, rounds, cpuClock);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Measure(LibraryWorkload workload, string root, int rounds, bool cpuClock)
    {
        var directories = new Dictionary<Build, string>();
        foreach (var build in Configurations.Select(c => c.Build).Distinct())
        {
            string directory = Path.Combine(root, workload.Name + "-" + directories.Count);
            CopyDirectory(AppContext.BaseDirectory, directory);
            if (build.Options is { } options)
            {
                var result = AssemblyInstrumenter.Instrument(workload.OriginalPath, directory, options);
                var s = result.Statistics;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{workload.Name}, {build.Name} build: {s.BlockSites} probed blocks, {s.ImpliedBlocks} implied (pruned), {s.CmpSites} comparisons"));
            }
            directories.Add(build, directory);
        }
        Console.WriteLine();

        var times = Configurations.ToDictionary(c => c, _ => new List<double>());
        var entries = new Dictionary<Configuration, long>();
        for (int r = 0; r < rounds; r++)
        {
            // Rotate the order so that no configuration always runs first or after the same one.
            for (int k = 0; k < Configurations.Length; k++)
            {
                var c = Configurations[(k + r) % Configurations.Length];
                var (time, count) = RunChild(directories[c.Build], workload.Name, c.Mode, cpuClock);
                times[c].Add(time);
                entries[c] = count;
            }
            Console.Error.WriteLine($"{workload.Name}: round {r + 1}/{rounds} done");
        }

        var original = times[Configurations[0]];
        var sharpFuzz = times[Configurations[1]];
        Console.WriteLine($"| {workload.Name} | ms/pass min / median | x original (min / median) | x SharpFuzz scheme (min / median) | entries per pass |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var c in Configurations)
        {
            var t = times[c];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Name} | {t.Min():0.0000} / {Stats.Median(t):0.0000} | {t.Min() / original.Min():0.00} / {Stats.Median(t) / Stats.Median(original):0.00} | {t.Min() / sharpFuzz.Min():0.00} / {Stats.Median(t) / Stats.Median(sharpFuzz):0.00} | {entries[c]:N0} |"));
        }
        Console.WriteLine();
    }

    /// <summary>One child process: its median ms per pass, and the area entries one pass records.</summary>
    private static (double Time, long Entries) RunChild(string directory, string library, string mode, bool cpuClock)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { Path.Combine(directory, "Kcov.Instrumentation.Bench.dll"), "child", library, mode, "3", "100" })
            start.ArgumentList.Add(arg);
        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        string error = child.StandardError.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0)
            throw new InvalidOperationException($"the {mode} run in {directory} failed ({child.ExitCode}): {error}");
        // wall-min wall-median cpu-min cpu-median inputs entries warmup
        var fields = output.Trim().Split(' ');
        double time = double.Parse(fields[cpuClock ? 3 : 1], CultureInfo.InvariantCulture);
        return (time, long.Parse(fields[5], CultureInfo.InvariantCulture));
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string directory in Directory.GetDirectories(from))
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
    }
}
