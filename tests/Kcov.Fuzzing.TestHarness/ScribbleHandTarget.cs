using System.Globalization;
using Kcov;

namespace Kcov.Fuzzing.TestHarness;

/// <summary>
/// A target with a memory-corruption bug, as unsafe code or a native library has: the input
/// "SCRB" makes it overwrite the words of the fuzzer's control block header it finds mapped in its
/// process (the executor's, found in /proc/self/maps), then return as if nothing happened. The
/// supervisor must notice, kill the executor, keep the input as a finding, and go on.
/// </summary>
public static unsafe class ScribbleHandTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        Trace.Pc(0x300);
        if (data.Length < 4 || !data[..4].SequenceEqual("SCRB"u8))
            return;
        Trace.Pc(0x301);
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            if (!line.Contains("/memfd:kcov-fuzz-", StringComparison.Ordinal))
                continue;
            long start = long.Parse(line[..line.IndexOf('-')], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            // The header's slots and max_len words (bytes 28..35); the slots themselves stay as they are.
            *(long*)(start + 28) = 0x0bad_0bad_0bad_0bad;
            return;
        }
    }
}
