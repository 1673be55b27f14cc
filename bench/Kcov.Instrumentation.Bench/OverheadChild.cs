using System.Diagnostics;
using System.Globalization;
using Kcov;
using Kcov.Workloads;

/// <summary>
/// One configuration, measured in a process of its own: the library under test is whichever copy sits
/// beside this program (the parent puts the original or an instrumented build there), loaded the way an
/// application loads it (default load context, tiered compilation and dynamic PGO as configured by
/// default). It warms up until tiering has settled, then times batches of passes over the workload's
/// documents, resetting the area before each document as a fuzzer does, and prints one line:
/// the median milliseconds per pass of its batches, by the wall clock and by the thread's CPU clock
/// (which a machine busy with other work does not inflate by preempting this thread).
/// </summary>
static unsafe class OverheadChild
{
    /// <summary>Enough for one pass of the largest document set (PCs, or 4-word records, per document).</summary>
    private static readonly int AreaWords = int.Parse(Environment.GetEnvironmentVariable("KCOV_BENCH_WORDS") ?? "4194304");

    public static int Run(string library, string mode, double warmupSeconds, int batches)
    {
        var workload = LibraryWorkload.All.Single(w => w.Name == library);
        var run = workload.RunType.GetMethod("Run")!.CreateDelegate<Func<byte[], string>>();
        var inputs = workload.Seeds().Where(input => Succeeds(run, input)).ToList();

        KcovDevice? device = null;
        KcovArea? area = null;
        switch (mode)
        {
            case "none": break;
            case "pc": device = KcovDevice.OpenEnabled(AreaWords, KcovMode.TracePc, out area); break;
            case "cmp": device = KcovDevice.OpenEnabled(AreaWords, KcovMode.TraceCmp, out area); break;
            default: throw new ArgumentException($"unknown mode {mode}");
        }
        try
        {
            // Warm up until tiering has settled: tier-0 code, call counting, the instrumented tier
            // with its PGO profile, tier 1 and on-stack replacement of loops. On a busy machine the
            // background compiler falls behind, so wait for a full second in which the JIT compiled
            // nothing rather than for a fixed time (at least warmupSeconds, at most 120 s).
            var clock = Stopwatch.StartNew();
            int passes = 0;
            long compiled = -1;
            var quiet = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < 120)
            {
                Pass(run, inputs, area);
                passes++;
                long now = System.Runtime.JitInfo.GetCompiledMethodCount();
                if (now != compiled)
                {
                    compiled = now;
                    quiet.Restart();
                }
                else if (quiet.Elapsed.TotalSeconds >= 1 && clock.Elapsed.TotalSeconds >= warmupSeconds)
                    break;
            }
            double warmup = clock.Elapsed.TotalSeconds;
            // Entries written in one pass (what a traced pass records).
            long entries = 0;
            foreach (var input in inputs)
            {
                if (area is not null)
                    area.Words[0] = 0;
                run(input);
                entries += (long)(area?.Words[0] ?? 0);
            }
            // Batches of about 20 ms each: short enough that some run undisturbed on a shared machine.
            int perBatch = Math.Max(1, (int)(passes * 0.02 / warmup));
            var wall = new List<double>();
            var cpu = new List<double>();
            for (int b = 0; b < batches; b++)
            {
                double cpuStart = ThreadCpuMilliseconds();
                clock.Restart();
                for (int p = 0; p < perBatch; p++)
                    Pass(run, inputs, area);
                wall.Add(clock.Elapsed.TotalMilliseconds / perBatch);
                cpu.Add((ThreadCpuMilliseconds() - cpuStart) / perBatch);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{wall.Min():R} {Stats.Median(wall):R} {cpu.Min():R} {Stats.Median(cpu):R} {inputs.Count} {entries} {warmup:0.0}"));
            return 0;
        }
        finally
        {
            device?.Disable();
            area?.Dispose();
            device?.Dispose();
        }
    }

    private struct Timespec { public long Seconds; public long Nanoseconds; }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, Timespec* time);

    /// <summary>CLOCK_THREAD_CPUTIME_ID: the time this thread has run on a CPU.</summary>
    private static double ThreadCpuMilliseconds()
    {
        Timespec t;
        ClockGetTime(3, &t);
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }

    private static void Pass(Func<byte[], string> run, List<byte[]> inputs, KcovArea? area)
    {
        foreach (var input in inputs)
        {
            if (area is not null)
                area.Words[0] = 0;
            run(input);
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
}
