using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Kcov;
using Kcov.Instrumentation;
using Kcov.Workloads;

// Instrumentation figures for issue 4, measured in one process so every ratio has its baseline
// from the same run. The machine is shared and noisy: every figure is repeated and reported as
// min and median. Usage: dotnet run -c Release --project bench/Kcov.Instrumentation.Bench [-- rounds [speed|overhead|map]]
if (args.Length > 0 && args[0] == "child")
    return OverheadChild.Run(args[1], args[2], double.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 7;
string part = args.Length > 1 ? args[1] : "all";
Console.WriteLine($"rounds: {rounds}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine();
if (part is "all" or "speed")
    InstrumentationSpeed.Measure(rounds);
Console.WriteLine();
if (part is "all" or "overhead")
    RuntimeOverhead.Measure(rounds);
Console.WriteLine();
if (part is "all" or "map")
    PcMapLoad.Measure(rounds);
return 0;

static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>How fast the rewriter is on each library (in memory: read, rewrite, write, map).</summary>
static class InstrumentationSpeed
{
    public static void Measure(int rounds)
    {
        Console.WriteLine("## Instrumentation speed (InstrumentToMemory: read + rewrite + write + PC map)");
        Console.WriteLine();
        Console.WriteLine("| library | trace | input KB | methods | blocks | cmp | switch | sites | min ms | median ms | sites/s (median) | MB/s (median) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var workload in LibraryWorkload.All)
        {
            foreach (var trace in new[] { TraceModes.Pc, TraceModes.Pc | TraceModes.Cmp })
            {
                var options = new InstrumentationOptions { Trace = trace };
                AssemblyInstrumenter.InstrumentToMemory(workload.OriginalPath, options); // warm-up
                var times = new List<double>();
                InstrumentationStatistics? s = null;
                for (int r = 0; r < rounds; r++)
                {
                    var clock = Stopwatch.StartNew();
                    s = AssemblyInstrumenter.InstrumentToMemory(workload.OriginalPath, options).Statistics;
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
                double median = Stats.Median(times);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {workload.Name} | {(trace == TraceModes.Pc ? "pc" : "pc,cmp")} | {s!.InputBytes / 1024} | {s.Methods} | {s.BlockSites} | {s.CmpSites} | {s.SwitchSites} | {s.Sites} | {times.Min():0} | {median:0} | {s.Sites / (median / 1000):0} | {s.InputBytes / 1048576.0 / (median / 1000):0.00} |"));
            }
        }
    }
}

/// <summary>
/// A fixed Markdig and YamlDotNet workload (every corpus document of the library, run as fuzzing does:
/// reset the area, run one input), in six configurations, rounds interleaved so that drift hits all alike.
/// </summary>
static class RuntimeOverhead
{
    private sealed record Configuration(string Name, Func<byte[], string> Run, KcovMode? Mode);

    // A collectible context nobody references is finalized and unloads: keep them for the whole run.
    private static readonly List<InstrumentedLoadContext> Contexts = [];

    public static void Measure(int rounds)
    {
        Console.WriteLine("## Run-time overhead (ratio to the original: min time / min time, median time / median time)");
        Console.WriteLine();
        Console.WriteLine("| workload | configuration | min ms / pass | median ms / pass | ratio of mins | ratio of medians |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        string root = Path.Combine(Path.GetTempPath(), "kcov-bench-" + Environment.ProcessId);
        try
        {
            foreach (var workload in LibraryWorkload.All.Where(w => w.Name is "Markdig" or "YamlDotNet"))
                Measure(workload, root, rounds);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void Measure(LibraryWorkload workload, string root, int rounds)
    {
        var original = workload.RunType.GetMethod("Run")!.CreateDelegate<Func<byte[], string>>();
        // Documents the original parses without throwing: the workload measures parsing, not exception unwinding.
        var inputs = workload.Seeds().Where(input => Succeeds(original, input)).ToList();
        Func<byte[], string> Load(TraceModes trace)
        {
            var result = AssemblyInstrumenter.Instrument(workload.OriginalPath, Path.Combine(root, workload.Name + "-" + (int)trace),
                new InstrumentationOptions { Trace = trace });
            var context = new InstrumentedLoadContext([result.AssemblyPath, typeof(LibraryWorkload).Assembly.Location]);
            Contexts.Add(context);
            var type = context.LoadFromAssemblyName(typeof(LibraryWorkload).Assembly.GetName()).GetType(workload.RunType.FullName!)!;
            return type.GetMethod("Run", BindingFlags.Public | BindingFlags.Static)!.CreateDelegate<Func<byte[], string>>();
        }
        var pc = Load(TraceModes.Pc);
        var pcCmp = Load(TraceModes.Pc | TraceModes.Cmp);
        Configuration[] configurations =
        [
            new("original", original, null),
            new("pc build, no device bound", pc, null),
            new("pc build, trace-pc enabled", pc, KcovMode.TracePc),
            new("pc,cmp build, no device bound", pcCmp, null),
            new("pc,cmp build, trace-pc enabled", pcCmp, KcovMode.TracePc),
            new("pc,cmp build, trace-cmp enabled", pcCmp, KcovMode.TraceCmp),
        ];

        // Enough passes per measurement to take ~200 ms, and enough warm-up for tiered JIT to settle.
        int passes = 1;
        while (Time(configurations[0], inputs, passes) < 200)
            passes *= 2;
        foreach (var c in configurations)
            for (int i = 0; i < 5; i++)
                Time(c, inputs, passes);

        var times = configurations.ToDictionary(c => c, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
            foreach (var c in configurations)
                times[c].Add(Time(c, inputs, passes) / passes);
        var baseline = times[configurations[0]];
        foreach (var c in configurations)
        {
            var t = times[c];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {workload.Name} ({inputs.Count} docs) | {c.Name} | {t.Min():0.000} | {Stats.Median(t):0.000} | {t.Min() / baseline.Min():0.00} | {Stats.Median(t) / Stats.Median(baseline):0.00} |"));
        }
    }

    private static bool Succeeds(Func<byte[], string> run, byte[] input)
    {
        try
        {
            run(input);
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>Milliseconds for <paramref name="passes"/> passes over the inputs, resetting the area before each input.</summary>
    private static double Time(Configuration c, IReadOnlyList<byte[]> inputs, int passes)
    {
        // Start every measurement with the same heap, so one configuration's garbage is not collected on another's clock.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        KcovDevice? device = null;
        KcovArea? area = null;
        if (c.Mode is { } mode)
            device = KcovDevice.OpenEnabled(1 << 22, mode, out area);
        try
        {
            var clock = Stopwatch.StartNew();
            for (int p = 0; p < passes; p++)
            {
                foreach (var input in inputs)
                {
                    if (area is not null)
                        area.Words[0] = 0;
                    c.Run(input);
                }
            }
            return clock.Elapsed.TotalMilliseconds;
        }
        finally
        {
            device?.Disable();
            area?.Dispose();
            device?.Dispose();
        }
    }
}

/// <summary>Saving and loading a PC map of a million sites (the issue's "fast to load" bar).</summary>
static class PcMapLoad
{
    public static void Measure(int rounds)
    {
        const int Sites = 1_000_000, Methods = 50_000;
        var sites = new Kcov.Coverage.PcMapSite[Sites];
        for (int i = 0; i < Sites; i++)
            sites[i] = new Kcov.Coverage.PcMapSite((Kcov.Coverage.SiteKind)(i % 3), i / 20, i % 500, i % 400, 1 + i % 3000, 1 + i % 80);
        var methods = Enumerable.Range(0, Methods).Select(i => new Kcov.Coverage.PcMapMethod(0x06000000 + i, $"Ns{i % 40}.Type{i / 10}", $"Method{i}", "(System.String,System.Int32)", $"Ns{i % 40}.Type{i / 10}", $"Method{i}")).ToArray();
        var documents = Enumerable.Range(0, 400).Select(i => $"/src/project/dir{i % 20}/File{i}.cs").ToArray();
        var map = new Kcov.Coverage.PcMap(0x12345678, "Big", "Big.dll", Guid.NewGuid(), Guid.NewGuid(), true, true, documents, methods, sites);
        string path = Path.Combine(Path.GetTempPath(), $"kcov-bench-{Environment.ProcessId}.kcovmap");
        try
        {
            var save = new List<double>();
            var load = new List<double>();
            for (int r = 0; r < rounds + 1; r++)
            {
                var clock = Stopwatch.StartNew();
                map.Save(path);
                double saved = clock.Elapsed.TotalMilliseconds;
                clock.Restart();
                var loaded = Kcov.Coverage.PcMap.Load(path);
                double read = clock.Elapsed.TotalMilliseconds;
                if (loaded.SiteCount != Sites)
                    throw new InvalidOperationException("map did not round-trip");
                if (r > 0) // the first round warms up the JIT
                {
                    save.Add(saved);
                    load.Add(read);
                }
            }
            Console.WriteLine("## PC map of 1,000,000 sites, 50,000 methods, 400 documents");
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"file: {new FileInfo(path).Length / 1048576.0:0.0} MB; save min {save.Min():0} ms, median {Stats.Median(save):0} ms; load min {load.Min():0} ms, median {Stats.Median(load):0} ms"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
