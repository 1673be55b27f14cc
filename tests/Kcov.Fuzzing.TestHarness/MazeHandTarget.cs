using Kcov;

namespace Kcov.Fuzzing.TestHarness;

/// <summary>
/// "FUZ!" byte by byte, each byte a new block: coverage alone (no hints needed) leads the
/// fuzzer through it, one byte per corpus step. Instrumented by hand.
/// </summary>
public static class MazeHandTarget
{
    private static readonly byte[] Path = "FUZ!"u8.ToArray();

    public static void Run(ReadOnlySpan<byte> data)
    {
        Trace.Pc(0x200);
        for (int i = 0; i < Path.Length; i++)
        {
            if (i >= data.Length || data[i] != Path[i])
            {
                Trace.Pc(0x210 + (ulong)i);
                return;
            }
            Trace.Pc(0x220 + (ulong)i);
        }
        Trace.Pc(0x230);
        throw new IndexOutOfRangeException("maze solved");
    }
}
