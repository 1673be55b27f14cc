using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kcov.Samples.Targets;

/// <summary>
/// Every way a target can fail, one 4-byte command each: THRW (an exception), THRD (an exception
/// on a thread of its own, which ends the process), SOVF (a stack overflow), FAIL
/// (Environment.FailFast), OOMX (managed allocations past the heap limit), RSSX (native memory past
/// -rss_limit_mb), HANG (never returns). The fuzzer must survive them all,
/// keep each one's input as an artifact, and go on.
/// </summary>
public static class CrashKindsTarget
{
    private const int Chunk = 16 << 20;
    private static readonly List<nint> Leak = [];

    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
            return;
        switch (System.Text.Encoding.ASCII.GetString(data[..4]))
        {
            case "THRW":
                throw new FormatException("planted exception");
            case "THRD":
                var thread = new Thread(() => throw new ApplicationException("planted exception on another thread"));
                thread.Start();
                thread.Join();
                break;
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
                // 1 GiB the GC does not see (only an RSS watch catches it), then wait to be killed.
                var ones = new byte[Chunk];
                Array.Fill(ones, (byte)1);
                for (int i = 0; i < 64; i++)
                {
                    nint p = Marshal.AllocHGlobal(Chunk);
                    Marshal.Copy(ones, 0, p, Chunk);
                    Leak.Add(p);
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
