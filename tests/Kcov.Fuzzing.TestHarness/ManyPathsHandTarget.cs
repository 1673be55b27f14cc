using Kcov;

namespace Kcov.Fuzzing.TestHarness;

/// <summary>
/// A block per (position, byte value) of the first 64 bytes: nearly every mutation finds new
/// coverage, so the corpus grows steadily (for tests that need a stream of corpus saves).
/// Instrumented by hand.
/// </summary>
public static class ManyPathsHandTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        for (int i = 0; i < data.Length && i < 64; i++)
            Trace.Pc(0x10000 + ((ulong)i << 8) + data[i]);
    }
}
