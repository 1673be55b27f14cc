using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kcov;

namespace Kcov.Fuzzing.TestHarness;

/// <summary>
/// One input prefix per way a target can fail: THRW (managed exception), SOVF (stack
/// overflow), FAIL (Environment.FailFast), OOMX (managed allocation past the heap limit),
/// RSSX (native memory past -rss_limit_mb), HANG (never returns). Anything else is harmless.
/// Instrumented by hand.
/// </summary>
public static unsafe class CrashKindsHandTarget
{
    private static readonly List<nint> s_leak = [];

    public static void Run(ReadOnlySpan<byte> data)
    {
        Trace.Pc(0x300);
        if (data.Length < 4)
            return;
        Trace.Pc(0x301 + (ulong)(data[0] & 0xF));
        switch (System.Text.Encoding.ASCII.GetString(data[..4]))
        {
            case "THRW":
                throw new FormatException("planted exception");
            case "SOVF":
                Recurse(1);
                break;
            case "FAIL":
                Environment.FailFast("planted FailFast");
                break;
            case "OOMX":
                var hog = new List<byte[]>();
                while (true)
                    hog.Add(new byte[64 << 20]);
            case "RSSX":
                // Native memory the GC does not see: only the supervisor's RSS watch catches it.
                // 1 GiB, then wait to be killed (bounded, so a busy machine is not driven out of memory).
                for (int i = 0; i < 64; i++)
                {
                    nint p = Marshal.AllocHGlobal(16 << 20);
                    new Span<byte>((void*)p, 16 << 20).Fill(1);
                    s_leak.Add(p);
                }
                while (true)
                    Thread.Sleep(10);
            case "HANG":
                while (true)
                    Thread.Sleep(10);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Recurse(int depth) => Recurse(depth + 1) + 1;
}
