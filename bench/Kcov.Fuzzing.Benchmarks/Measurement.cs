using System.Diagnostics;

namespace Kcov.Fuzzing.Benchmarks;

/// <summary>Repeats a timed run and keeps min and median (the machine is shared and noisy).</summary>
internal static class Measurement
{
    /// <summary>Nanoseconds per operation over <paramref name="repetitions"/> runs of <paramref name="operations"/> operations.</summary>
    public static (double Min, double Median) NanosecondsPerOperation(int repetitions, long operations, Action<long> run)
    {
        run(Math.Max(1, operations / 10)); // warm-up: JIT, tiering, caches
        var samples = new List<double>();
        for (int r = 0; r < repetitions; r++)
        {
            var clock = Stopwatch.StartNew();
            run(operations);
            samples.Add(clock.Elapsed.TotalNanoseconds / operations);
        }
        samples.Sort();
        return (samples[0], samples[samples.Count / 2]);
    }
}
