namespace Kcov.Coverage;

/// <summary>
/// Block coverage of every module a <see cref="Symbolizer"/> knows, from a list of PCs
/// (a trace-pc area: each PC appears once per execution of its block). The unit of coverage
/// is the basic block; comparison and switch sites are not counted (a trace-cmp area's PCs
/// say which comparisons ran, and the blocks around them are what a report shows). A pruned
/// block (<see cref="SiteKind.ImpliedBlock"/>) counts as run as often as the most-run block
/// that implies it.
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
    public static CoverageData FromPcs(Symbolizer symbolizer, IEnumerable<ulong> pcs)
    {
        var maps = symbolizer.Maps;
        var hits = maps.ToDictionary(m => m, m => new long[m.SiteCount]);
        long unknown = 0;
        foreach (ulong pc in pcs)
        {
            if (symbolizer.TryResolve(pc, out var map, out _))
                hits[map!][SiteId.IndexOf(pc)]++;
            else
                unknown++;
        }

        var methods = new List<MethodCoverage>();
        foreach (var map in maps)
        {
            var byMethod = new Dictionary<int, MethodCoverage>();
            var siteHits = hits[map];
            foreach (var (implied, by) in map.Implications)
                siteHits[implied] = Math.Max(siteHits[implied], siteHits[by]);
            var sites = map.Sites;
            for (int i = 0; i < sites.Length; i++)
            {
                var site = sites[i];
                if (site.Kind is not (SiteKind.Block or SiteKind.ImpliedBlock))
                    continue;
                if (!byMethod.TryGetValue(site.Method, out var method))
                {
                    method = new MethodCoverage(map, map.Methods[site.Method], map.DocumentOf(site)) { EntryHits = siteHits[i] };
                    byMethod.Add(site.Method, method);
                }
                long n = siteHits[i];
                method.Blocks += new CoverageCount(n > 0 ? 1 : 0, 1);
                if (site.Line > 0 && map.DocumentOf(site) == method.File)
                    method.Lines[site.Line] = Math.Max(n, method.Lines.GetValueOrDefault(site.Line));
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
