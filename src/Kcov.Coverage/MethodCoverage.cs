namespace Kcov.Coverage;

/// <summary>The block coverage of one method of one module.</summary>
public sealed class MethodCoverage
{
    internal MethodCoverage(PcMap map, PcMapMethod method, string? file)
    {
        Map = map;
        Method = method;
        File = file;
    }

    public PcMap Map { get; }

    public PcMapMethod Method { get; }

    /// <summary>The source file of the method's first located block, or null without a PDB.</summary>
    public string? File { get; }

    /// <summary>Blocks covered and total.</summary>
    public CoverageCount Blocks { get; internal set; }

    /// <summary>How often the entry block (the method's first site) ran: its call count.</summary>
    public long EntryHits { get; internal set; }

    /// <summary>Line -> the most hits of any block whose IL range covers it (lines of <see cref="File"/> only).</summary>
    public SortedDictionary<int, long> Lines { get; } = [];

    /// <summary>The outcomes of the method's conditional branches and switches, in map order.</summary>
    public List<BranchCoverage> Branches { get; } = [];

    /// <summary>The first line of the method, 0 when unknown.</summary>
    public int FirstLine => Lines.Count > 0 ? Lines.Keys.First() : 0;

    /// <summary>The lines of methods of one source file: line -> the most hits of any block covering it.</summary>
    public static SortedDictionary<int, long> LinesOfFile(IEnumerable<MethodCoverage> methods)
    {
        var lines = new SortedDictionary<int, long>();
        foreach (var m in methods)
            foreach (var (line, hits) in m.Lines)
                lines[line] = Math.Max(hits, lines.GetValueOrDefault(line));
        return lines;
    }

    /// <summary>The branch outcomes of methods of one source file, by line, then branch, then outcome.</summary>
    public static List<BranchCoverage> BranchesOfFile(IEnumerable<MethodCoverage> methods) =>
        [.. methods.SelectMany(m => m.Branches).OrderBy(b => b.Line).ThenBy(b => b.BranchSite).ThenBy(b => b.Outcome)];
}
