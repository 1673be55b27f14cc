using Kcov.Coverage;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Reads what a dead executor's input ran from its kcov area (which the supervisor mapped at the
/// executor's hello: coverage lives where a crash cannot lose it) and symbolizes the last PCs with
/// the PC maps next to the harness. For a hang or a stack overflow, the runtime gives no source
/// lines; the trace does.
/// </summary>
internal sealed class LastBlocks(string mapDirectory)
{
    private const int Examined = 256, Shown = 12;

    private readonly Lazy<Symbolizer?> _symbolizer = new(() => Load(mapDirectory));

    /// <summary>The last PCs of a trace-pc area, symbolized; empty without an area or for a comparison trace.</summary>
    public IReadOnlyList<string> From(ExecutorArea? area, KcovMode mode)
    {
        if (mode != KcovMode.TracePc || area is null)
            return [];
        var words = area.Words;
        // The count is the target's process's to write: believe it only within the area.
        int count = (int)Math.Min(words[0], (ulong)words.Length - 1);
        ulong[] pcs = words.Slice(1 + Math.Max(0, count - Examined), Math.Min(count, Examined)).ToArray();
        var symbolizer = _symbolizer.Value;
        // A loop shows as one line with its count, as repeated frames do.
        var lines = Crashes.CrashReport.Collapse(pcs.Reverse().Select(pc => Describe(pc, symbolizer)));
        return lines.Take(Shown).Reverse().ToList();
    }

    private static string Describe(ulong pc, Symbolizer? symbolizer)
    {
        if (symbolizer is null)
            return $"   0x{pc:x16}";
        var s = symbolizer.Symbolize(pc);
        return $"   0x{pc:x16} {s.Function}{(s.File is null ? "" : $" {s.File}:{s.Line}")}";
    }

    private static Symbolizer? Load(string directory)
    {
        try
        {
            return Symbolizer.LoadDirectory(directory);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // No (readable) PC maps next to the harness: raw PCs, which `kcov symbolize` can read later.
            return null;
        }
    }
}
