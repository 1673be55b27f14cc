using Kcov.Fuzzing.Crashes;

namespace Kcov.Fuzzing.Executor;

/// <summary>
/// -minimize_crash=1 inside an executor: tries smaller variants of the best input so far; a
/// variant that throws with the same signature becomes the best. A variant that kills the
/// process is judged by the supervisor, which reads it from the slot and restarts us with it.
/// </summary>
internal sealed class CrashMinimizer(TargetRunner runner, ExecutionGate gate, Random random)
{
    /// <summary>
    /// Shrinks <paramref name="best"/>; <paramref name="onBetter"/> hears each improvement. Without a
    /// <paramref name="signature"/>, the input is run once first to learn it (a managed crash).
    /// </summary>
    public byte[] Minimize(byte[] best, string signature, Action<byte[], CrashReport> onBetter)
    {
        if (signature.Length == 0)
        {
            if (!gate.TryBegin(best))
                return best;
            var first = runner.Run(best);
            gate.End();
            if (first is null)
                return best;
            var report = CrashReport.FromException(first, runner.ThrowSite);
            signature = report.DedupKey;
            onBetter(best, report);
        }
        while (best.Length > 0)
        {
            byte[] candidate = Shrink(best);
            if (!gate.TryBegin(candidate))
                break;
            var error = runner.Run(candidate);
            gate.End();
            if (error is not null && CrashReport.FromException(error, runner.ThrowSite) is var report && report.DedupKey == signature)
            {
                best = candidate;
                onBetter(best, report);
            }
        }
        return best;
    }

    /// <summary>Cuts the tail, erases a chunk, or erases one byte: always strictly smaller.</summary>
    private byte[] Shrink(byte[] input)
    {
        int n = input.Length;
        switch (random.Next(3))
        {
            case 0:
                return input[..(n - 1 - random.Next(Math.Max(1, n / 2)))];
            case 1:
            {
                int len = 1 + random.Next(Math.Max(1, n / 2));
                int at = random.Next(n - len + 1);
                return [.. input[..at], .. input[(at + len)..]];
            }
            default:
            {
                int at = random.Next(n);
                return [.. input[..at], .. input[(at + 1)..]];
            }
        }
    }
}
