using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace Kcov.Benchmarks;

/// <summary>
/// The cost of one trace call, as instrumented code pays it at every basic block or
/// comparison: on a bound thread, with the area full, and on an unbound thread both when
/// nothing in the process traces and when another thread does (so the process-wide check
/// cannot answer and the thread's own state is read).
/// Each benchmark runs <see cref="Calls"/> calls; ratios are against a loop of the same
/// length that does only the loop's own work.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class TracePathBenchmarks
{
    private const int Calls = 1024;

    private KcovDevice? _device;
    private KcovArea? _area;
    private OtherTracingThread? _other;

    [Params("bound", "full", "unbound", "unbound, another thread traces")]
    public string Thread { get; set; } = "bound";

    [Params(KcovMode.TracePc, KcovMode.TraceCmp)]
    public KcovMode Mode { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Thread.StartsWith("unbound", StringComparison.Ordinal))
        {
            if (Thread != "unbound")
                _other = new OtherTracingThread(Mode);
            return;
        }
        // "full": 2 words hold one PC and no cmp record, so every call after the first drops.
        int words = Thread == "full" ? 2 : Calls * KcovAbi.WordsPerCmp + 1;
        _device = KcovDevice.OpenEnabled(words, Mode, out _area);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _other?.Dispose();
        _device?.Disable();
        _area?.Dispose();
        _device?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls)]
    public ulong EmptyLoop()
    {
        ulong x = 0;
        for (ulong i = 0; i < Calls; i++)
            x = Mix(x, i);
        return x;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public ulong Pc()
    {
        ulong x = 0;
        for (ulong i = 0; i < Calls; i++)
        {
            Trace.Pc(i);
            x = Mix(x, i);
        }
        ResetIfBound();
        return x;
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public ulong ConstCmp4()
    {
        ulong x = 0;
        for (ulong i = 0; i < Calls; i++)
        {
            Trace.ConstCmp4(42, (uint)i, i);
            x = Mix(x, i);
        }
        ResetIfBound();
        return x;
    }

    /// <summary>Keeps the area from filling between invocations, so "bound" measures stores, not drops.</summary>
    private void ResetIfBound()
    {
        if (_area is not null && Thread == "bound")
            _area.Words[0] = 0;
    }

    /// <summary>The loop's own work: one add, so the loop is not latency-bound and the trace call's cost shows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong x, ulong i) => x + i;
}
