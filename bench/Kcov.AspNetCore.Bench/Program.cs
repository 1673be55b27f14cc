using System.Globalization;
using Kcov;
using Kcov.AspNetCore.Bench;
using Kcov.Fuzzing;
using Kcov.Instrumentation;
using Kcov.Tests;

// dotnet run -c Release --project bench/Kcov.AspNetCore.Bench -- [rounds=9] [seconds=5] [original|instrumented]
// Requests per second of samples/OrderService, original and instrumented (pc,cmp) builds, each run
// as its own process without Kcov's middleware and with it; the latter loaded without the
// kcov-handle header and with the header of a client that holds the handle (its requests then run
// as remote sections, traced into the client's area in the instrumented build). Rounds interleave
// the configurations (in a rotating order); each ratio is taken within a round, against the
// no-middleware service of the same build, and reported as min / median over the rounds.
int rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 9;
var duration = TimeSpan.FromSeconds(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5);
var load = new LoadGenerator(LoadGenerator.WrkInstalled());
Console.WriteLine($"load: {load.Name}, {duration.TotalSeconds:0} s per measurement, {rounds} rounds, {Environment.ProcessorCount} cores");

string work = Directory.CreateTempSubdirectory("kcov-aspnetcore-bench-").FullName;
try
{
    string original = AppContext.BaseDirectory;
    string instrumented = Path.Combine(work, "instrumented");
    Directory.CreateDirectory(instrumented);
    foreach (var file in Directory.EnumerateFiles(original))
        File.Copy(file, Path.Combine(instrumented, Path.GetFileName(file)));
    AssemblyInstrumenter.Instrument(Path.Combine(original, "OrderService.dll"), instrumented, new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });

    byte[] order = [.. "ORD1"u8, 2, 2, 0x34, 0x12, 3, 0x35, 0x12, 1];
    var endpoints = new (string Name, HttpMethod Method, string Path, byte[] Body)[]
    {
        ("POST /orders (parse, queue)", HttpMethod.Post, "orders", order),
        ("GET /stock/1", HttpMethod.Get, "stock/1", []),
    };
    Console.WriteLine();
    Console.WriteLine("| build | endpoint | no middleware, req/s | middleware, no header | ratio | middleware + header | ratio |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    foreach (var (build, directory) in new[] { ("original", original), ("instrumented", instrumented) })
    {
        if (args.Length > 2 && args[2] != build)
            continue;
        using var plain = OrderServiceProcess.Start(directory, Path.Combine(work, $"{build}-plain.sock"), "--KcovMiddleware", "false");
        using var kcov = OrderServiceProcess.Start(directory, Path.Combine(work, $"{build}-kcov.sock"));
        using var client = HandleHolder.Open(kcov.Socket);
        foreach (var (name, method, path, body) in endpoints)
        {
            var configurations = new (Uri Url, string? Handle)[]
            {
                (new Uri(plain.BaseAddress, path), null),
                (new Uri(kcov.BaseAddress, path), null),
                (new Uri(kcov.BaseAddress, path), client.Header),
            };
            foreach (var (url, handle) in configurations)
                load.RequestsPerSecond(url, method, body, handle, TimeSpan.FromSeconds(2)); // warm-up: JIT, tiering, connections
            var samples = configurations.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < rounds; round++)
            {
                for (int k = 0; k < configurations.Length; k++)
                {
                    int c = (k + round) % configurations.Length;
                    samples[c].Add(load.RequestsPerSecond(configurations[c].Url, method, body, configurations[c].Handle, duration));
                }
            }
            string Rate(List<double> s) => $"{s.Min():N0} / {Median(s):N0}";
            string Ratio(int c)
            {
                var ratios = samples[c].Zip(samples[0], (x, baseline) => x / baseline).ToList();
                return $"{ratios.Min():0.00} / {Median(ratios):0.00}";
            }
            Console.WriteLine($"| {build} | {name} | {Rate(samples[0])} | {Rate(samples[1])} | {Ratio(1)} | {Rate(samples[2])} | {Ratio(2)} |");
        }
    }
}
finally
{
    Directory.Delete(work, recursive: true);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}
