namespace Kcov.Fuzzing.Benchmarks;

/// <summary>
/// A tiny-input target, instrumented by hand as the IL rewriter would (a Trace.Pc per block):
/// a few branches on the first bytes, so that one execution costs well under a microsecond and
/// the fuzzer's own per-input overhead is what the benchmark sees.
/// </summary>
internal static class TinyTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        Trace.Pc(1);
        if (data.Length == 0)
            return;
        Trace.Pc(2);
        if (data[0] < 128)
        {
            Trace.Pc(3);
            if (data.Length > 1 && data[1] == data[0])
                Trace.Pc(4);
        }
        else
        {
            Trace.Pc(5);
            for (int i = 1; i < data.Length && i < 8; i++)
                Trace.Pc(6);
        }
        Trace.Pc(7);
    }
}
