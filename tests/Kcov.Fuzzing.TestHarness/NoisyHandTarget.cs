using Kcov;

namespace Kcov.Fuzzing.TestHarness;

/// <summary>Writes to stdout and stderr on every input (for -close_fd_mask). Instrumented by hand.</summary>
public static class NoisyHandTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        Trace.Pc(0x500 + (ulong)Math.Min(data.Length, 8));
        Console.Out.WriteLine("TARGET-STDOUT");
        Console.Error.WriteLine("TARGET-STDERR");
    }
}
