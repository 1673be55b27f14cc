using Kcov.Fuzzing.Crashes;

namespace Kcov.Fuzzing.Executor;

/// <summary>
/// -minimize_crash=1 and -cleanse_crash=1 inside an executor: tries variants of the best input
/// so far (smaller ones, or ones with a byte replaced by ' ' or 0xff); a variant that throws with
/// the same signature becomes the best. A variant that kills the process is judged by the
/// supervisor, which reads it from the slot and restarts us with it.
/// </summary>
internal sealed class CrashMinimizer(TargetRunner runner, ExecutionGate gate, Random random)
{
    /// <summary>libFuzzer's -cleanse_crash replacement bytes.</summary>
    private static readonly byte[] Fillers = [(byte)' ', 0xff];

    /// <summary>
    /// Shrinks <paramref name="best"/>; <paramref name="onBetter"/> hears each improvement. Without a
    /// <paramref name="signature"/>, the input is run once first to learn it (a managed crash).
    /// </summary>
    public byte[] Minimize(byte[] best, string signature, Action<byte[], CrashReport> onBetter)
    {
        if (!Learn(best, ref signature, onBetter))
            return best;
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

    /// <summary>
    /// Replaces, byte by byte from <paramref name="position"/> on, each byte that is not already
    /// ' ' or 0xff by ' ', else by 0xff, where the crash keeps its signature (libFuzzer's
    /// CleanseCrashInput). A position is byte * 2 + the filler tried; <paramref name="onBetter"/>
    /// hears each kept replacement with the position to go on from.
    /// </summary>
    public byte[] Cleanse(byte[] best, string signature, int position, Action<byte[], CrashReport, int> onBetter)
    {
        if (!Learn(best, ref signature, (input, report) => onBetter(input, report, position)))
            return best;
        for (; position < best.Length * 2; position++)
        {
            int at = position / 2;
            if (Array.IndexOf(Fillers, best[at]) >= 0)
                continue;
            byte[] candidate = [.. best];
            candidate[at] = Fillers[position % 2];
            if (!gate.TryBegin(candidate))
                break;
            var error = runner.Run(candidate);
            gate.End();
            if (error is not null && CrashReport.FromException(error, runner.ThrowSite) is var report && report.DedupKey == signature)
            {
                best = candidate;
                onBetter(best, report, (at + 1) * 2);
            }
        }
        return best;
    }

    /// <summary>Runs the input once to learn its signature if none is known; false if it does not crash.</summary>
    private bool Learn(byte[] input, ref string signature, Action<byte[], CrashReport> onFirst)
    {
        if (signature.Length > 0)
            return true;
        if (!gate.TryBegin(input))
            return false;
        var first = runner.Run(input);
        gate.End();
        if (first is null)
            return false;
        var report = CrashReport.FromException(first, runner.ThrowSite);
        signature = report.DedupKey;
        onFirst(input, report);
        return true;
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
