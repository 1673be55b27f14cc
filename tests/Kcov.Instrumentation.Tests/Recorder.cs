namespace Kcov.Instrumentation.Tests;

/// <summary>Runs code on a thread with a kcov device enabled and returns what the area holds afterwards.</summary>
internal static class Recorder
{
    /// <summary>PCs recorded by trace-pc while <paramref name="action"/> ran on this thread.</summary>
    public static ulong[] Pcs(Action action, int words = 1 << 16)
    {
        using var device = KcovDevice.OpenEnabled(words, KcovMode.TracePc, out var area);
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
            var words_ = area.Words;
            return words_.Slice(1, (int)words_[0]).ToArray();
        }
    }

    /// <summary>Comparison records (type, arg1, arg2, pc) recorded by trace-cmp while <paramref name="action"/> ran.</summary>
    public static (ulong Type, ulong Arg1, ulong Arg2, ulong Pc)[] Cmps(Action action, int words = 1 << 16)
    {
        using var device = KcovDevice.OpenEnabled(words, KcovMode.TraceCmp, out var area);
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
            var w = area.Words;
            int n = (int)w[0];
            var records = new (ulong, ulong, ulong, ulong)[n];
            for (int i = 0; i < n; i++)
                records[i] = (w[1 + 4 * i], w[2 + 4 * i], w[3 + 4 * i], w[4 + 4 * i]);
            return records;
        }
    }
}
