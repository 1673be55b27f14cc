namespace Kcov.Coverage;

/// <summary>
/// How often each control-flow edge of a map was taken, from how often each block ran, by flow
/// conservation as gcov solves its spanning tree: a block's count is the sum of its incoming
/// edges (an entry edge counts the calls) and the sum of its outgoing ones. Where one edge of a
/// block is unknown, the block's equation gives it; where a pruned block's count is unknown (it
/// has no probe) and all the edges on one side of it are known, their sum gives it. Repeated
/// until nothing changes, this settles every edge of structured code. An exception thrown in the
/// middle of a block breaks its outgoing equation (the block ran, none of its edges did); counts
/// are never negative, and an edge the equations cannot settle gets the upper bound min(from, to).
/// A pruned block the equations leave open counts as often as the most-run block that implies it
/// (it ran whenever any of them ran, so it ran at all exactly when one of them did).
/// </summary>
public static class EdgeCounts
{
    /// <summary>The count of every edge of <paramref name="map"/>; also fills in <paramref name="siteHits"/> for its pruned blocks.</summary>
    public static long[] Solve(PcMap map, Span<long> siteHits)
    {
        var edges = map.Edges;
        var counts = new long?[edges.Length];
        var outgoing = new Dictionary<int, List<int>>();
        var incoming = new Dictionary<int, List<int>>();
        for (int e = 0; e < edges.Length; e++)
        {
            if (edges[e].From != PcMapEdge.External)
                Add(outgoing, edges[e].From, e);
            Add(incoming, edges[e].To, e);
        }
        var sites = map.Sites;
        var known = new bool[sites.Length];
        for (int i = 0; i < sites.Length; i++)
            known[i] = sites[i].Kind != SiteKind.ImpliedBlock;
        SettleAll(outgoing, incoming, siteHits, known, counts);
        if (map.Implications.Count > 0)
        {
            foreach (var (implied, by) in map.Implications)
                if (!known[implied])
                    siteHits[implied] = Math.Max(siteHits[implied], siteHits[by]);
            Array.Fill(known, true);
            SettleAll(outgoing, incoming, siteHits, known, counts);
        }
        var result = new long[edges.Length];
        for (int e = 0; e < edges.Length; e++)
        {
            long to = siteHits[edges[e].To];
            long from = edges[e].From == PcMapEdge.External ? to : siteHits[edges[e].From];
            result[e] = counts[e] ?? Math.Min(from, to);
        }
        return result;
    }

    private static void SettleAll(Dictionary<int, List<int>> outgoing, Dictionary<int, List<int>> incoming, Span<long> siteHits,
        bool[] known, long?[] counts)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var (site, list) in outgoing)
                changed |= known[site] ? Settle(list, siteHits[site], counts) : Sum(list, site, siteHits, known, counts);
            foreach (var (site, list) in incoming)
                changed |= known[site] ? Settle(list, siteHits[site], counts) : Sum(list, site, siteHits, known, counts);
        }
    }

    /// <summary>If every edge of <paramref name="list"/> is known, the block's count is their sum.</summary>
    private static bool Sum(List<int> list, int site, Span<long> siteHits, bool[] known, long?[] counts)
    {
        long sum = 0;
        foreach (int e in list)
        {
            if (counts[e] is not { } c)
                return false;
            sum += c;
        }
        siteHits[site] = sum;
        known[site] = true;
        return true;
    }

    /// <summary>If exactly one edge of <paramref name="list"/> is unknown, it is the block's count less the others.</summary>
    private static bool Settle(List<int> list, long blockCount, long?[] counts)
    {
        int unknown = -1;
        long known = 0;
        foreach (int e in list)
        {
            if (counts[e] is { } c)
                known += c;
            else if (unknown >= 0)
                return false;
            else
                unknown = e;
        }
        if (unknown < 0)
            return false;
        counts[unknown] = Math.Max(0, blockCount - known);
        return true;
    }

    private static void Add(Dictionary<int, List<int>> lists, int key, int edge)
    {
        if (!lists.TryGetValue(key, out var list))
            lists[key] = list = [];
        list.Add(edge);
    }
}
