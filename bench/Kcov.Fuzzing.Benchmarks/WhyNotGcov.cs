using System.Globalization;

namespace Kcov.Fuzzing.Benchmarks;

/// <summary>
/// The seed's "why not gcov" experiment: per-execution cost of reset + run + collect for a
/// program of 10^3..10^6 blocks of which one input runs 20, with kcov (reset word 0, read the
/// PCs that ran) against counters per site (clear and scan every counter, as gcov and coverlet
/// do), measured in the same process, same run.
/// </summary>
internal static class WhyNotGcov
{
    public static void Run(int repetitions)
    {
        Console.WriteLine("| blocks | kcov ns/exec (min / median) | counters ns/exec (min / median) | counters / kcov (median) | kcov vs 10^3 (median) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        double kcovBase = 0;
        foreach (int blocks in new[] { 1_000, 10_000, 100_000, 1_000_000 })
        {
            var kcov = MeasureKcov(BlockTargets.Generate(blocks, kcov: true), repetitions);
            var counters = MeasureCounters(BlockTargets.Generate(blocks, kcov: false), repetitions);
            if (kcovBase == 0)
                kcovBase = kcov.Median;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {blocks:N0} | {kcov.Min:F0} / {kcov.Median:F0} | {counters.Min:F0} / {counters.Median:F0} | {counters.Median / kcov.Median:F1}x | {kcov.Median / kcovBase:F2}x |"));
        }
    }

    /// <summary>Executions per timed run, so that one run takes long enough to time but not minutes.</summary>
    private static long Executions(int blocks) => Math.Clamp(200_000_000L / blocks, 1_000, 1_000_000);

    private static (double Min, double Median) MeasureKcov(BlockTargets target, int repetitions)
    {
        using var device = KcovDevice.OpenEnabled(1 << 16, KcovMode.TracePc, out var area);
        using (area)
        {
            var collected = new ulong[1 << 16];
            long sink = 0;
            var result = Measurement.NanosecondsPerOperation(repetitions, 1_000_000, n =>
            {
                var words = area.Words;
                for (long i = 0; i < n; i++)
                {
                    Volatile.Write(ref words[0], 0);                           // reset
                    sink += target.Run((int)(i % BlockTargets.Inputs), i);       // run 20 blocks
                    int count = (int)Volatile.Read(ref words[0]);               // collect: the PCs that ran
                    words.Slice(1, count).CopyTo(collected);
                    sink += count;
                }
            });
            device.Disable();
            GC.KeepAlive(sink);
            return result;
        }
    }

    private static (double Min, double Median) MeasureCounters(BlockTargets target, int repetitions)
    {
        long[] counters = target.Counters!;
        var collected = new int[counters.Length];
        long sink = 0;
        var result = Measurement.NanosecondsPerOperation(repetitions, Executions(counters.Length), n =>
        {
            for (long i = 0; i < n; i++)
            {
                Array.Clear(counters);                                          // reset: every counter
                sink += target.Run((int)(i % BlockTargets.Inputs), i);           // run 20 blocks
                int count = 0;                                                  // collect: scan every counter
                for (int c = 0; c < counters.Length; c++)
                    if (counters[c] != 0)
                        collected[count++] = c;
                sink += count;
            }
        });
        GC.KeepAlive(sink);
        return result;
    }
}
