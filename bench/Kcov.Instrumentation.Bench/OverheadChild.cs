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
    /// <summary>Enough for the largest document (PCs, or 4-word records): nothing is dropped.</summary>
    private const int AreaWords = 1 << 22;

    public static int Run(string library, string mode, double warmupSeconds, int batches)
    {
        var workload = LibraryWorkload.All.Single(w => w.Name == library);
        var run = workload.RunType.GetMethod("Run")!.CreateDelegate<Func<byte[], string>>();
        var inputs = workload.Seeds().Where(input => Succeeds(run, input)).ToList();

        KcovDevice? device = null;
        KcovArea? area = null;
        int bitmapWords = 0;
        switch (mode)
        {
            case "none": break;
            case "pc": device = KcovDevice.OpenEnabled(AreaWords, KcovMode.TracePc, out area); break;
            case "cmp": device = KcovDevice.OpenEnabled(AreaWords, KcovMode.TraceCmp, out area); break;
            case "unique":
                // The library's module registers its sites' bits when its first probe runs (the
                // inputs' check above ran it), so the bitmap can be sized to them as a fuzzer would.
                bitmapWords = (int)((Kcov.Trace.SiteBits + 63) / 64);
                device = KcovDevice.Open();
                device.InitTrace(bitmapWords + AreaWords);
                area = device.Map();
                device.EnableUnique(bitmapWords);
                break;
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
                Pass(run, inputs, area, bitmapWords);
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
                Reset(area, bitmapWords);
                run(input);
                entries += (long)(area?.Words[bitmapWords] ?? 0);
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
                    Pass(run, inputs, area, bitmapWords);
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

    private static void Pass(Func<byte[], string> run, List<byte[]> inputs, KcovArea? area, int bitmapWords)
    {
        foreach (var input in inputs)
        {
            Reset(area, bitmapWords);
            run(input);
        }
    }

    /// <summary>What a fuzzer does before each input: the count, and in unique mode the bitmap, back to zero.</summary>
    private static void Reset(KcovArea? area, int bitmapWords)
    {
        if (area is not null)
            area.Words[..(bitmapWords + 1)].Clear();
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
