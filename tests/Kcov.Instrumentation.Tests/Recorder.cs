namespace Kcov.Instrumentation.Tests;

/// <summary>Runs code on this thread with a kcov device enabled and returns what the area holds afterwards.</summary>
internal static class Recorder
{
    /// <summary>PCs recorded by trace-pc while <paramref name="action"/> ran.</summary>
    public static ulong[] Pcs(Action action, int words = 1 << 16)
    {
        var area = Record(KcovMode.TracePc, action, words);
        return area[1..(int)(area[0] + 1)];
    }

    /// <summary>
    /// Comparison records (type, arg1, arg2, pc) recorded by trace-cmp while <paramref name="action"/> ran;
    /// a data record (docs/trace-cmp-data.md) is its first slot, its payload slots are skipped.
    /// </summary>
    public static (ulong Type, ulong Arg1, ulong Arg2, ulong Pc)[] Cmps(Action action, int words = 1 << 16)
    {
        var w = Record(KcovMode.TraceCmp, action, words);
        var records = new List<(ulong, ulong, ulong, ulong)>();
        for (ulong slot = 0; slot < w[0]; slot++)
        {
            int at = 1 + 4 * (int)slot;
            records.Add((w[at], w[at + 1], w[at + 2], w[at + 3]));
            if ((w[at] & KcovAbi.CmpData) != 0)
                slot += (ulong)KcovAbi.CmpDataExtraSlots(w[at]);
        }
        return [.. records];
    }

    /// <summary>The trace-cmp area's words (count, then its 4-word slots) after <paramref name="action"/> ran.</summary>
    public static ulong[] CmpWords(Action action, int words = 1 << 16) => Record(KcovMode.TraceCmp, action, words);

    /// <summary>kcov.rst's example: enable, reset the count, run, read, disable.</summary>
    private static ulong[] Record(KcovMode mode, Action action, int words)
    {
        using var device = KcovDevice.OpenEnabled(words, mode, out var area);
        using (area)
        {
            area.Words[0] = 0;
            try
            {
                action();
            }
            finally
            {
                device.Disable();
            }
            var all = area.Words;
            long used = 1 + (long)all[0] * (mode == KcovMode.TracePc ? 1 : KcovAbi.WordsPerCmp);
            return all[..(int)Math.Min(used, all.Length)].ToArray();
        }
    }
}
