using Kcov.Coverage;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Reads what a dead executor's input ran from its kcov area (a file under /dev/shm, which outlives
/// the process: coverage lives where a crash cannot lose it) and symbolizes the last PCs with the PC
/// maps next to the harness. For a hang or a stack overflow, the runtime gives no source lines; the
/// trace does. Each block is one line in the shape of a sanitizer's stack frame,
/// <c>#n 0xPC in Function file:line</c>, newest first: the last block that ran is #0. For a hang
/// that is where the input spins; for a stack overflow, the recursing functions.
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
        // A loop shows as one line with its count.
        var lines = Collapse(pcs.Reverse().Select(pc => Describe(pc, symbolizer)), Shown);
        return lines.Select((line, i) => $"    #{i} {line}").ToList();
    }

    /// <summary>"0xPC in Function file:line", or the bare PC when no map knows it (`kcov symbolize` can read it later).</summary>
    private static string Describe(ulong pc, Symbolizer? symbolizer)
    {
        var s = symbolizer?.Symbolize(pc);
        if (s is null || !s.Known)
            return $"0x{pc:x16}";
        return $"0x{pc:x16} in {s.Function}{(s.File is null ? "" : $" {s.File}:{s.Line}")}";
    }

    /// <summary>Consecutive repeats of a line become one line with a count ("[x12]"); at most <paramref name="max"/> lines.</summary>
    private static List<string> Collapse(IEnumerable<string> lines, int max)
    {
        var result = new List<string>();
        string? previous = null;
        int repeats = 0;
        void Flush()
        {
            if (previous is not null && result.Count < max)
                result.Add(repeats > 1 ? $"{previous}  [x{repeats}]" : previous);
        }
        foreach (var line in lines)
        {
            if (line == previous)
            {
                repeats++;
                continue;
            }
            Flush();
            previous = line;
            repeats = 1;
        }
        Flush();
        return result;
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
