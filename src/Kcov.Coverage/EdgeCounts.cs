namespace Kcov.Coverage;

/// <summary>
/// How often each control-flow edge of a map was taken, from how often each block ran, by flow
/// conservation as gcov solves its spanning tree: a block's count is the sum of its incoming
/// edges (an entry edge counts the calls) and the sum of its outgoing ones. Where one edge of a
/// block is unknown, the block's equation gives it; repeated until nothing changes, this settles
/// every edge of structured code, since every block has its own site. An exception thrown in the
/// middle of a block breaks its outgoing equation (the block ran, none of its edges did); counts
/// are never negative, and an edge the equations cannot settle gets the upper bound min(from, to).
/// </summary>
public static class EdgeCounts
{
    public static long[] Solve(PcMap map, ReadOnlySpan<long> siteHits)
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
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var (site, list) in outgoing)
                changed |= Settle(list, siteHits[site], counts);
            foreach (var (site, list) in incoming)
                changed |= Settle(list, siteHits[site], counts);
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
