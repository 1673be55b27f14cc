using Kcov.Coverage;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Reads what a dead executor's input ran from its kcov area (a file under /dev/shm, which outlives
/// the process: coverage lives where a crash cannot lose it) and symbolizes the last PCs with the PC
/// maps next to the harness. For a hang or a stack overflow, the runtime gives no source lines; the
/// trace does.
/// </summary>
internal sealed class LastBlocks(string mapDirectory)
{
    private const int Examined = 256, Shown = 12;

    private readonly Lazy<Symbolizer?> _symbolizer = new(() => Load(mapDirectory));

    /// <summary>The last PCs of a trace-pc area, symbolized; empty if the area is gone or not a PC trace.</summary>
    public IReadOnlyList<string> From(string areaName, KcovMode mode)
    {
        if (mode != KcovMode.TracePc || areaName.Length == 0 || !File.Exists(areaName))
            return [];
        ulong[] pcs;
        try
        {
            using var area = KcovArea.OpenShared(areaName);
            var words = area.Words;
            int count = (int)Math.Min(words[0], (ulong)words.Length - 1);
            pcs = words.Slice(1 + Math.Max(0, count - Examined), Math.Min(count, Examined)).ToArray();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return [];
        }
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
