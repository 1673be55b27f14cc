namespace Kcov.Instrumentation;

/// <summary>
/// Which basic blocks need a probe, by LLVM SanitizerCoverage's rule (without its <c>no-prune</c>): a
/// block gets none when it dominates all of its successors (a "full dominator": whenever a successor
/// ran, it ran), or when it post-dominates all of its predecessors and has more than one of them (a
/// "full post-dominator": whenever a predecessor ran, it ran after). The entry block and every
/// handler or filter start always get one. For each pruned block, the probed blocks whose execution
/// implies its own are recorded, so coverage reports still mark it; a block whose coverage probed
/// blocks cannot tell keeps its probe (see <see cref="Decide"/>), so nothing that ran goes unseen.
/// <para>
/// The graph is <see cref="ControlFlow"/>'s: branches and fall-throughs, and no edges for
/// exceptions, as in LLVM for code without <c>invoke</c>. So a full post-dominator counts as run
/// when a predecessor ran even if that predecessor threw before reaching it: a report can mark
/// such a block after an exception skipped it. A full dominator's coverage is exact.
/// </para>
/// </summary>
internal sealed class BlockPruning
{
    private BlockPruning(HashSet<int> probed, Dictionary<int, int[]> impliedBy)
    {
        Probed = probed;
        ImpliedBy = impliedBy;
    }

    /// <summary>The original start offsets of the blocks that get a probe.</summary>
    public HashSet<int> Probed { get; }

    /// <summary>For each pruned block (by start offset), the start offsets of the probed blocks whose execution implies it.</summary>
    public Dictionary<int, int[]> ImpliedBy { get; }

    /// <summary>
    /// Decides for the blocks of <paramref name="flow"/>. A block <paramref name="canProbe"/> rejects
    /// (nothing may come between a prefix and its instruction) is in neither result and implies
    /// nothing. With <paramref name="prune"/> false, every other block is probed (<c>no-prune</c>).
    /// </summary>
    public static BlockPruning Decide(ControlFlow flow, Func<int, bool> canProbe, bool prune)
    {
        var blocks = flow.Blocks;
        int n = blocks.Count;
        var index = new Dictionary<int, int>(n);
        for (int b = 0; b < n; b++)
            index[blocks[b].Start] = b;
        var successors = new List<int>[n];
        var predecessors = new List<int>[n];
        for (int b = 0; b < n; b++)
        {
            successors[b] = [];
            predecessors[b] = [];
        }
        for (int b = 0; b < n; b++)
        {
            foreach (var successor in blocks[b].Successors)
            {
                int s = index[successor.Start];
                if (!successors[b].Contains(s))
                {
                    successors[b].Add(s);
                    predecessors[s].Add(b);
                }
            }
        }
        int[] roots = [.. Enumerable.Range(0, n).Where(b => blocks[b].Entered)];
        int[] exits = [.. Enumerable.Range(0, n).Where(b => successors[b].Count == 0)];
        var probeable = blocks.Select(b => canProbe(b.Start)).ToArray();

        // Candidates: blocks the rule would prune, each with its witnesses (the successors of a full
        // dominator, the predecessors of a full post-dominator): the block ran exactly when one of its
        // witnesses ran. A block that is both has two witness sets; either will do.
        var witnesses = new List<int[]>[n];
        if (prune)
        {
            var idom = Dominators(n, roots, successors, predecessors);
            var ipdom = Dominators(n, exits, predecessors, successors);
            for (int b = 0; b < n; b++)
            {
                if (blocks[b].Entered || idom[b] == Unreachable || !probeable[b])
                    continue;
                var sets = new List<int[]>();
                if (successors[b].Count > 0 && successors[b].All(s => Dominates(idom, b, s)))
                    sets.Add([.. successors[b]]);
                if (predecessors[b].Count > 1 && predecessors[b].All(p => Dominates(ipdom, b, p)))
                    sets.Add([.. predecessors[b]]);
                if (sets.Count > 0)
                    witnesses[b] = sets;
            }
        }

        // Each pruned block must be told by probed blocks alone: it ran iff one of `by[b]` ran. A
        // witness that is itself pruned stands for its own `by`, so witnesses must be settled before
        // the blocks that rely on them. Two pruned blocks that are each other's only witnesses (the
        // head and the join of an if without else, when the if's body rarely runs) would tell
        // nothing about each other, so a candidate whose witnesses never settle keeps its probe.
        var by = new int[n][];
        var pruned = new bool[n];
        for (int b = 0; b < n; b++)
        {
            if (probeable[b] && witnesses[b] is null)
                by[b] = [b];
        }
        while (true)
        {
            bool progress = false;
            for (int b = 0; b < n; b++)
            {
                if (by[b] is not null || witnesses[b] is null)
                    continue;
                foreach (var set in witnesses[b])
                {
                    if (set.All(w => by[w] is not null))
                    {
                        by[b] = [.. set.SelectMany(w => by[w]).Distinct().Order()];
                        pruned[b] = true;
                        progress = true;
                        break;
                    }
                }
            }
            if (progress)
                continue;
            // Nothing settles: the first unsettled candidate keeps its probe, and that may settle others.
            int keep = Array.FindIndex(witnesses, w => w is not null);
            while (keep >= 0 && by[keep] is not null)
                keep = Array.FindIndex(witnesses, keep + 1, w => w is not null);
            if (keep < 0)
                break;
            by[keep] = [keep];
        }

        var probed = new HashSet<int>();
        var impliedBy = new Dictionary<int, int[]>();
        for (int b = 0; b < n; b++)
        {
            if (pruned[b])
                impliedBy.Add(blocks[b].Start, [.. by[b].Select(i => blocks[i].Start)]);
            else if (probeable[b])
                probed.Add(blocks[b].Start);
        }
        return new BlockPruning(probed, impliedBy);
    }

    private const int Unreachable = -1;
    private const int VirtualRoot = -2;

    /// <summary>Whether <paramref name="a"/> dominates <paramref name="b"/> in the tree <paramref name="idom"/> (a node dominates itself).</summary>
    private static bool Dominates(int[] idom, int a, int b)
    {
        if (idom[a] == Unreachable || idom[b] == Unreachable)
            return false;
        for (int x = b; x != VirtualRoot; x = idom[x])
        {
            if (x == a)
                return true;
        }
        return false;
    }

    /// <summary>
    /// Immediate dominators over <paramref name="forward"/> edges from a virtual root joined to
    /// <paramref name="roots"/> (Cooper, Harvey and Kennedy's iterative algorithm): a node's entry
    /// is its immediate dominator, <see cref="VirtualRoot"/> for nodes the root alone dominates, and
    /// <see cref="Unreachable"/> for nodes no root reaches. Run on the reversed graph from the exits,
    /// it gives post-dominators (blocks that reach no exit, in an endless loop, post-dominate nothing).
    /// </summary>
    private static int[] Dominators(int n, int[] roots, List<int>[] forward, List<int>[] backward)
    {
        // Reverse postorder of a depth-first walk from the roots.
        var rpo = new List<int>(n);
        var visited = new bool[n];
        var stack = new Stack<(int Node, int Next)>();
        foreach (int root in roots)
        {
            if (visited[root])
                continue;
            visited[root] = true;
            stack.Push((root, 0));
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                if (next < forward[node].Count)
                {
                    stack.Push((node, next + 1));
                    int s = forward[node][next];
                    if (!visited[s])
                    {
                        visited[s] = true;
                        stack.Push((s, 0));
                    }
                }
                else
                    rpo.Add(node);
            }
        }
        rpo.Reverse();
        var order = new int[n];
        for (int i = 0; i < rpo.Count; i++)
            order[rpo[i]] = i;

        var idom = new int[n];
        Array.Fill(idom, Unreachable);
        foreach (int root in roots)
            idom[root] = VirtualRoot;

        int Intersect(int a, int b)
        {
            while (a != b)
            {
                while (a != VirtualRoot && b != VirtualRoot && order[a] > order[b])
                    a = idom[a];
                while (a != VirtualRoot && b != VirtualRoot && order[b] > order[a])
                    b = idom[b];
                if (a == VirtualRoot || b == VirtualRoot)
                    return VirtualRoot;
            }
            return a;
        }

        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (int node in rpo)
            {
                if (idom[node] == VirtualRoot && roots.Contains(node))
                    continue;
                int newIdom = Unreachable;
                foreach (int p in backward[node])
                {
                    if (idom[p] == Unreachable)
                        continue;
                    newIdom = newIdom == Unreachable ? p : Intersect(p, newIdom);
                }
                if (newIdom != idom[node])
                {
                    idom[node] = newIdom;
                    changed = true;
                }
            }
        }
        return idom;
    }
}
