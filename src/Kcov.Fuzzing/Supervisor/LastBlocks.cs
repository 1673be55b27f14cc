using Kcov.Coverage;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Reads what an executor's input ran from its kcov area (which the supervisor mapped at the
/// executor's hello, so it outlives the process: coverage lives where a crash cannot lose it) and
/// symbolizes the last PCs with the PC maps next to the harness. For a hang or a stack overflow, the
/// runtime gives no source lines; the trace does. Each block is one line in the shape of a
/// sanitizer's stack frame, <c>#n 0xPC in Function file:line</c>, newest first: the last block that
/// ran is #0. For a hang that is where the input spins; for a stack overflow, the recursing
/// functions. A hang's signature is the loop it is stuck in: the methods of its last blocks.
/// </summary>
internal sealed class LastBlocks(string mapDirectory)
{
    private const int Shown = 12;

    /// <summary>PCs read from the end of the area: enough for a loop whose body runs a few thousand blocks.</summary>
    private const int Examined = 4096;

    /// <summary>The last blocks shown come from this many of the last PCs.</summary>
    private const int Described = 256;

    /// <summary>The turns of a loop its signature is taken from (enough for the branches inside it to show).</summary>
    public const int LoopTurns = 8;

    /// <summary>At most this many methods name a loop.</summary>
    private const int LoopMethods = 3;

    private readonly Lazy<Symbolizer?> _symbolizer = new(() => Load(mapDirectory));

    /// <summary>
    /// The last PCs of a trace-pc area, oldest first; empty without an area or for a comparison trace.
    /// <paramref name="traceOffset"/> is where the trace starts (after the bitmap in unique mode, whose
    /// PCs are the blocks reached for the first time: a loop shows once, not turn by turn).
    /// </summary>
    public ulong[] Read(ExecutorArea? area, KcovMode mode, int traceOffset = 0)
    {
        if (mode != KcovMode.TracePc || area is null || traceOffset < 0 || traceOffset >= area.Words.Length - 1)
            return [];
        var words = area.Words[traceOffset..];
        // The count is the target's process's to write: believe it only within the area.
        int count = (int)Math.Min(words[0], (ulong)words.Length - 1);
        return words.Slice(1 + Math.Max(0, count - Examined), Math.Min(count, Examined)).ToArray();
    }

    /// <summary>The last of <paramref name="pcs"/>, newest first and symbolized ("    #0 0x... in Function file:line"), a block run repeatedly as one line with its count.</summary>
    public IReadOnlyList<string> Describe(ulong[] pcs)
    {
        var symbolizer = _symbolizer.Value;
        // A loop shows as one line with its count.
        var lines = Collapse(pcs.Reverse().Take(Described).Select(pc => Describe(pc, symbolizer)), Shown);
        return lines.Select((line, i) => $"    #{i} {line}").ToList();
    }

    /// <summary>
    /// The loop the trace ends in, as a signature: the blocks of its last few turns (after the 8th-last
    /// occurrence of the last block), as the methods they belong to, each with the first line of its
    /// blocks there, in name order ("M1 (File.cs:12) &lt;- M2 (File.cs:40)"). Whichever turn the input
    /// was stopped in, and whichever input got there, the same loop gives the same text; two loops give
    /// two. A trace whose last block does not repeat (the input blocks, or spins in code that is not
    /// instrumented) is named by that last block. Null when there is no trace.
    /// </summary>
    public string? Loop(ulong[] pcs) => Loop(pcs, out _);

    /// <summary>As <see cref="Loop(ulong[])"/>; <paramref name="turns"/> is how many times the last block repeats in the tail examined (up to 8).</summary>
    public string? Loop(ulong[] pcs, out int turns)
    {
        turns = 0;
        if (pcs.Length == 0)
            return null;
        ulong last = pcs[^1];
        int start = pcs.Length - 1;
        for (int i = pcs.Length - 2; i >= 0 && turns < LoopTurns; i--)
            if (pcs[i] == last)
            {
                start = i + 1;
                turns++;
            }
        if (turns == 0)
            start = pcs.Length - 1;
        var symbolizer = _symbolizer.Value;
        var methods = new SortedDictionary<string, (string? File, int Line, ulong Pc)>(StringComparer.Ordinal);
        foreach (ulong pc in pcs[start..].Distinct())
        {
            string function;
            string? file = null;
            int line = int.MaxValue;
            if (symbolizer?.Symbolize(pc) is { Function: not "??" } s)
            {
                function = s.Function;
                file = s.File is null ? null : Path.GetFileName(s.File);
                line = s.File is null ? int.MaxValue : s.Line;
            }
            else
            {
                function = $"0x{pc >> 32:x8}"; // the module, when there is no map
            }
            if (!methods.TryGetValue(function, out var best) || line < best.Line || (line == best.Line && pc < best.Pc))
                methods[function] = (file, line, pc);
        }
        return string.Join(" <- ", methods.Take(LoopMethods).Select(m =>
            m.Value.File is null ? m.Key : $"{m.Key} ({m.Value.File}:{m.Value.Line})"));
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
