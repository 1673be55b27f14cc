namespace Kcov.Coverage;

/// <summary>
/// Coverage of every module a <see cref="Symbolizer"/> knows, from a list of PCs (a trace-pc area:
/// each PC appears once per execution of its block). The unit is the basic block; a line is covered
/// when a block whose IL range it is part of ran (the PC map's line spans, from the PDB's sequence
/// points); branch outcomes are the map's branch edges, counted by <see cref="EdgeCounts"/>, which
/// also gives pruned blocks (<see cref="SiteKind.ImpliedBlock"/>, no probe) their counts.
/// Comparison and switch sites are not counted themselves.
/// </summary>
public sealed class CoverageData
{
    private CoverageData(IReadOnlyList<MethodCoverage> methods, long unknownPcs, int modules)
    {
        Methods = methods;
        UnknownPcs = unknownPcs;
        ModuleCount = modules;
    }

    /// <summary>Every instrumented method with at least one block, ordered by module, then type, then name.</summary>
    public IReadOnlyList<MethodCoverage> Methods { get; }

    /// <summary>PCs that no loaded map knows (other modules, or not kcov PCs at all).</summary>
    public long UnknownPcs { get; }

    public int ModuleCount { get; }

    public CoverageCount Total => Methods.Aggregate(default(CoverageCount), (sum, m) => sum + m.Blocks);

    /// <summary>Counts <paramref name="pcs"/> against every map of <paramref name="symbolizer"/>.</summary>
    public static CoverageData FromPcs(Symbolizer symbolizer, IEnumerable<ulong> pcs) =>
        FromPcCounts(symbolizer, pcs.Select(pc => KeyValuePair.Create(pc, 1L)));

    /// <summary>
    /// Counts PCs given with the number of times each ran (as a trace-pc area would hold them, summed over
    /// inputs): the same report as <see cref="FromPcs"/> of a list holding each PC that many times.
    /// </summary>
    public static CoverageData FromPcCounts(Symbolizer symbolizer, IEnumerable<KeyValuePair<ulong, long>> counts)
    {
        var maps = symbolizer.Maps;
        var hits = maps.ToDictionary(m => m, m => new long[m.SiteCount]);
        long unknown = 0;
        foreach (var (pc, count) in counts)
        {
            if (symbolizer.TryResolve(pc, out var map, out _))
                hits[map!][SiteId.IndexOf(pc)] += count;
            else
                unknown += count;
        }

        var methods = new List<MethodCoverage>();
        foreach (var map in maps)
        {
            var byMethod = new Dictionary<int, MethodCoverage>();
            var siteHits = hits[map];
            // Fills in the counts of pruned blocks before anything reads them.
            long[] taken = EdgeCounts.Solve(map, siteHits);
            var sites = map.Sites;
            for (int i = 0; i < sites.Length; i++)
            {
                var site = sites[i];
                if (site.Kind is not (SiteKind.Block or SiteKind.ImpliedBlock))
                    continue;
                if (!byMethod.TryGetValue(site.Method, out var method))
                {
                    // The method's file: that of its first block's lines (or of its first located site).
                    var spans = map.SpansOf(i);
                    string? file = spans.Length > 0 ? map.Documents[spans[0].Document] : map.DocumentOf(site);
                    method = new MethodCoverage(map, map.Methods[site.Method], file) { EntryHits = siteHits[i] };
                    byMethod.Add(site.Method, method);
                }
                long n = siteHits[i];
                method.Blocks += new CoverageCount(n > 0 ? 1 : 0, 1);
                foreach (var span in map.SpansOf(i))
                {
                    if (map.Documents[span.Document] != method.File)
                        continue;
                    for (int line = span.StartLine; line <= span.EndLine; line++)
                        method.Lines[line] = Math.Max(n, method.Lines.GetValueOrDefault(line));
                }
            }
            var edges = map.Edges;
            if (edges.Length > 0)
            {
                for (int e = 0; e < edges.Length; e++)
                {
                    var edge = edges[e];
                    if (!edge.IsBranch || edge.Line <= 0 || !byMethod.TryGetValue(sites[edge.From].Method, out var method))
                        continue;
                    method.Branches.Add(new BranchCoverage(edge.Line, edge.From, edge.Outcome, siteHits[edge.From] > 0 ? taken[e] : null));
                }
            }
            methods.AddRange(byMethod.Values
                .OrderBy(m => m.Method.TypeName, StringComparer.Ordinal)
                .ThenBy(m => m.Method.Name, StringComparer.Ordinal)
                .ThenBy(m => m.Method.Token));
        }
        return new CoverageData(methods, unknown, maps.Count);
    }

    /// <summary>Blocks per source file ("(no source)" for code without a PDB), ordered by file.</summary>
    public IReadOnlyList<(string File, CoverageCount Count)> ByFile() =>
        Group(m => m.File ?? "(no source)");

    /// <summary>Blocks per user type (compiler-generated classes count for the type they came from).</summary>
    public IReadOnlyList<(string Type, CoverageCount Count)> ByType() =>
        Group(m => m.Method.OwnerTypeName);

    /// <summary>Blocks per user method (lambdas and state machines count for the method they were written in).</summary>
    public IReadOnlyList<(string Method, CoverageCount Count)> ByMethod() =>
        Group(m => m.Method.OwnerTypeName + "." + m.Method.OwnerName);

    private IReadOnlyList<(string, CoverageCount)> Group(Func<MethodCoverage, string> key) =>
        [.. Methods.GroupBy(key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Aggregate(default(CoverageCount), (sum, m) => sum + m.Blocks)))
            .OrderBy(g => g.Key, StringComparer.Ordinal)];
}
