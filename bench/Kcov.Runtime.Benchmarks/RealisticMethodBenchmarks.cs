using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace Kcov.Benchmarks;

/// <summary>
/// The trace path on a method shaped like real parser code: a loop over a string that calls a
/// small predicate per character, so every block depends on data and none can be hoisted out of
/// the loop (the loop micro-benchmark of <see cref="TracePathBenchmarks"/> lets the JIT hoist
/// work the instrumented code cannot). The probed copy calls <see cref="Trace.Pc(ref byte, ulong, uint)"/>
/// at the start of each block with a frame local, as the instrumenter's probes do (each method has
/// its own local; the module probe class only adds the module's base to the index).
/// One call runs <see cref="BlocksPerCall"/> blocks.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class RealisticMethodBenchmarks
{
    private const string Text = "Order 1234, item 56789: 3 pieces at 12.50 each (code 7), due 2026-11-30";
    private const ulong Module = 0x7e57UL << 32;

    private KcovDevice? _device;
    private KcovArea? _area;
    private int _resetWords;
    private OtherTracingThread? _other;

    [Params("no tracer", "trace-pc", "unique mode", "another thread traces")]
    public string Case { get; set; } = "trace-pc";

    /// <summary>Blocks one call of the probed copy runs (recorded once in trace-pc).</summary>
    public static int BlocksPerCall { get; } = CountBlocks();

    [GlobalSetup]
    public void Setup()
    {
        switch (Case)
        {
            case "trace-pc":
                _device = KcovDevice.OpenEnabled(1 << 12, KcovMode.TracePc, out _area);
                _resetWords = 1;
                break;
            case "unique mode":
                _device = KcovDevice.Open();
                _device.InitTrace(1 + (1 << 12));
                _area = _device.Map();
                _device.EnableUnique(1);
                _resetWords = 2;
                break;
            case "another thread traces":
                _other = new OtherTracingThread(KcovMode.TracePc);
                break;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _other?.Dispose();
        _device?.Disable();
        _area?.Dispose();
        _device?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int Original() => CountDigits(Text);

    [Benchmark]
    public int Probed()
    {
        // What a fuzzer does before each input: the count (and in unique mode the bitmap) to zero.
        _area?.Words[.._resetWords].Clear();
        return CountDigitsProbed(Text);
    }

    private static int CountBlocks()
    {
        using var device = KcovDevice.OpenEnabled(1 << 12, KcovMode.TracePc, out var area);
        using (area)
        {
            area.Words[0] = 0;
            CountDigitsProbed(Text);
            int blocks = (int)area.Words[0];
            device.Disable();
            return blocks;
        }
    }

    private static int CountDigits(string s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++)
            if (IsDigit(s[i]))
                n++;
        return n;
    }

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    [SkipLocalsInit]
    private static int CountDigitsProbed(string s)
    {
        byte frame;
        Unsafe.SkipInit(out frame);
        Trace.Pc(ref frame, Module | 0, 0);
        int n = 0;
        int i = 0;
        while (true)
        {
            Trace.Pc(ref frame, Module | 1, 1);
            if (i >= s.Length)
                break;
            Trace.Pc(ref frame, Module | 2, 2);
            if (IsDigitProbed(s[i]))
            {
                Trace.Pc(ref frame, Module | 3, 3);
                n++;
            }
            Trace.Pc(ref frame, Module | 4, 4);
            i++;
        }
        Trace.Pc(ref frame, Module | 5, 5);
        return n;
    }

    [SkipLocalsInit]
    private static bool IsDigitProbed(char c)
    {
        byte frame;
        Unsafe.SkipInit(out frame);
        Trace.Pc(ref frame, Module | 6, 6);
        if (c < '0')
        {
            Trace.Pc(ref frame, Module | 7, 7);
            return false;
        }
        Trace.Pc(ref frame, Module | 8, 8);
        return c <= '9';
    }
}
