using System.Diagnostics;
using System.Globalization;
using Kcov;
using Kcov.Instrumentation;
using Kcov.Workloads;

// Instrumentation figures: every ratio has its baseline from the same run. The machine may be shared
// and noisy: every figure is repeated and reported as min and median.
// Usage: dotnet run -c Release --project bench/Kcov.Instrumentation.Bench [-- rounds [speed|overhead|map] [--cpu] [Library...]]
// --cpu times overhead by each process's thread CPU clock (for a machine busy with other work).
if (args.Length > 0 && args[0] == "child")
    return OverheadChild.Run(args[1], args[2], double.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 9;
string part = args.Length > 1 ? args[1] : "all";
bool cpuClock = args.Contains("--cpu");
string[] libraries = args.Skip(2).Where(a => a != "--cpu").ToArray();
if (libraries.Length == 0)
    libraries = ["Markdig", "YamlDotNet"];
Console.WriteLine($"rounds: {rounds}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine();
if (part is "all" or "speed")
    InstrumentationSpeed.Measure(rounds);
Console.WriteLine();
if (part is "all" or "overhead")
    Overhead.Measure(rounds, libraries, cpuClock);
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
        Console.WriteLine("| library | trace | input KB | methods | probed blocks | pruned blocks | cmp | switch | sites | min ms | median ms | sites/s (median) | MB/s (median) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
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
                    $"| {workload.Name} | {(trace == TraceModes.Pc ? "pc" : "pc,cmp")} | {s!.InputBytes / 1024} | {s.Methods} | {s.BlockSites} | {s.ImpliedBlocks} | {s.CmpSites} | {s.SwitchSites} | {s.Sites} | {times.Min():0} | {median:0} | {s.Sites / (median / 1000):0} | {s.InputBytes / 1048576.0 / (median / 1000):0.00} |"));
            }
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
