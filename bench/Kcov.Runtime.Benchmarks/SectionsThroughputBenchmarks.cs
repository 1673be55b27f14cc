using BenchmarkDotNet.Attributes;

namespace Kcov.Benchmarks;

/// <summary>
/// Many concurrent async flows on the thread pool, each awaiting in a loop: throughput without
/// remote sections (the baseline) and with every flow in a section of its own. Each flow has
/// a device of its own (a common handle each), so what the flows share is only what the runtime
/// itself shares on the await path, which is what this measures (issue 12: a process-wide lock
/// there serializes all sections). Compare the two rows of one run.
/// <code>dotnet run -c Release --project bench/Kcov.Runtime.Benchmarks -- --filter '*SectionsThroughput*'</code>
/// On a shared, busy machine, <see cref="Interleaved"/> gives steadier ratios: the two alternate, round by round.
/// <code>dotnet run -c Release --project bench/Kcov.Runtime.Benchmarks -- sections-throughput</code>
/// </summary>
[MinColumn, MedianColumn]
public class SectionsThroughputBenchmarks
{
    private const int Flows = 64;
    private const int Awaits = 200;

    private readonly List<(KcovDevice Device, KcovArea Area, ulong Handle)> _devices = [];
    private Thread? _owner;
    private readonly ManualResetEventSlim _stopOwner = new();

    [GlobalSetup]
    public void Setup()
    {
        using var enabled = new CountdownEvent(Flows);
        // One thread holds every device, as a collecting process would; each device its own common handle.
        _owner = new Thread(() =>
        {
            for (int i = 0; i < Flows; i++)
            {
                var device = KcovDevice.Open();
                device.InitTrace(1 << 16);
                var area = device.Map();
                ulong handle = KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, 0x5ec0_0000u + (uint)i);
                // The thread may hold only one binding: each device is bound on a thread of its own.
                var binder = new Thread(() =>
                {
                    device.RemoteEnable(KcovMode.TracePc, 1024, [], handle);
                    enabled.Signal();
                    _stopOwner.Wait();
                    device.Disable();
                });
                binder.Start();
                lock (_devices)
                    _devices.Add((device, area, handle));
            }
        });
        _owner.Start();
        _owner.Join();
        enabled.Wait();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stopOwner.Set();
        Thread.Sleep(100);
        foreach (var (device, area, _) in _devices)
        {
            area.Dispose();
            device.Dispose();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Flows * Awaits)]
    public Task NoSections() => Task.WhenAll(_devices.Select(d => Task.Run(() => Flow(d.Area, 0))));

    [Benchmark(OperationsPerInvoke = Flows * Awaits)]
    public Task Sections() => Task.WhenAll(_devices.Select(d => Task.Run(() => Flow(d.Area, d.Handle))));

    /// <summary>
    /// Both benchmarks alternately, <paramref name="rounds"/> rounds of <paramref name="batches"/> invocations each
    /// after a warm-up; prints ns per await (min and median over rounds) and the ratio of the medians.
    /// </summary>
    public static void Interleaved(int rounds = 21, int batches = 20)
    {
        var bench = new SectionsThroughputBenchmarks();
        bench.Setup();
        try
        {
            var plain = new List<double>();
            var sections = new List<double>();
            double Measure(Func<Task> run)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                for (int i = 0; i < batches; i++)
                    run().GetAwaiter().GetResult();
                return clock.Elapsed.TotalNanoseconds / (batches * Flows * Awaits);
            }
            for (int warm = 0; warm < 3; warm++)
            {
                Measure(bench.NoSections);
                Measure(bench.Sections);
            }
            for (int round = 0; round < rounds; round++)
            {
                plain.Add(Measure(bench.NoSections));
                sections.Add(Measure(bench.Sections));
            }
            double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
            Console.WriteLine($"ns per await, {Flows} flows x {Awaits} awaits, {rounds} rounds, {Environment.ProcessorCount} cores");
            Console.WriteLine($"  no sections: min {plain.Min():F0}  median {Median(plain):F0}");
            Console.WriteLine($"  sections:    min {sections.Min():F0}  median {Median(sections):F0}");
            Console.WriteLine($"  ratio sections/no sections: min {sections.Min() / plain.Min():F2}  median {Median(sections) / Median(plain):F2}");
        }
        finally
        {
            bench.Cleanup();
        }
    }

    private static async Task Flow(KcovArea area, ulong handle)
    {
        area.Words[0] = 0;
        using (handle != 0 ? Remote.Section(handle) : default)
        {
            for (int i = 0; i < Awaits; i++)
            {
                Trace.Pc((ulong)i);
                await Task.Yield();
            }
        }
    }
}
