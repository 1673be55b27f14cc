using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// Which basic blocks need a probe, by LLVM SanitizerCoverage's rule (without its <c>no-prune</c>): a
/// block gets none when it dominates all of its successors (a "full dominator": whenever a successor
/// ran, it ran), or when it post-dominates all of its predecessors and has more than one of them (a
/// "full post-dominator": whenever a predecessor ran, it ran after). The entry block and every
/// handler or filter start always get one. For each pruned block, the probed blocks whose execution
/// implies its own are recorded, so coverage reports still mark it.
/// <para>
/// The graph has the method's branches and fall-throughs; exceptions are not edges, as in LLVM for
/// code without <c>invoke</c>. So a full post-dominator counts as run when a predecessor ran even if
/// that predecessor threw: reports can mark such a block after an exception skipped it. A full
/// dominator's coverage is exact.
/// </para>
/// </summary>
internal sealed class BlockPruning
{
    private BlockPruning(HashSet<Instruction> probed, Dictionary<Instruction, Instruction[]> impliedBy)
    {
        Probed = probed;
        ImpliedBy = impliedBy;
    }

    /// <summary>The leaders of the blocks that get a probe.</summary>
    public HashSet<Instruction> Probed { get; }

    /// <summary>For each pruned block's leader, the leaders of the probed blocks whose execution implies it.</summary>
    public Dictionary<Instruction, Instruction[]> ImpliedBy { get; }

    /// <summary>Every block probed: <c>-fsanitize-coverage=no-prune</c>.</summary>
    public static BlockPruning None(IEnumerable<Instruction> leaders) => new([.. leaders], []);

    /// <summary>
    /// Decides for the blocks that start at <paramref name="leaders"/> in <paramref name="body"/> (after
    /// SimplifyMacros). A leader <paramref name="canProbe"/> rejects (nothing may come between a prefix
    /// and its instruction) is in neither result and implies nothing.
    /// </summary>
    public static BlockPruning Analyze(MethodBody body, HashSet<Instruction> leaders, Func<Instruction, bool> canProbe)
    {
        var graph = BlockGraph.Build(body, leaders);
        int n = graph.Count;
        var idom = Dominators(n, graph.Roots, graph.Successors, graph.Predecessors);
        var ipdom = Dominators(n, graph.Exits, graph.Predecessors, graph.Successors);

        var probeable = graph.Leaders.Select(canProbe).ToArray();
        var pruned = new bool[n];
        var implied = new List<int>[n];
        for (int b = 0; b < n; b++)
        {
            if (graph.IsRoot[b] || idom[b] == Unreachable || !probeable[b])
                continue;
            var succ = graph.Successors[b];
            var pred = graph.Predecessors[b];
            bool fullDominator = succ.Count > 0 && succ.All(s => Dominates(idom, b, s));
            bool fullPostDominator = pred.Count > 1 && pred.All(p => Dominates(ipdom, b, p));
            if (!fullDominator && !fullPostDominator)
                continue;
            pruned[b] = true;
            implied[b] = [.. (fullDominator ? succ : []).Concat(fullPostDominator ? pred : []).Distinct()];
        }

        // Resolve each pruned block to probed blocks. A pruned block that no probed block implies
        // (which the rule should not produce) keeps its probe, so no block is ever lost.
        var by = new HashSet<int>[n];
        bool changed = true;
        while (changed)
        {
            changed = false;
            for (int b = 0; b < n; b++)
            {
                if (!pruned[b])
                    continue;
                by[b] ??= [];
                foreach (int i in implied[b])
                {
                    if (!pruned[i] && probeable[i])
                        changed |= by[b].Add(i);
                    else if (by[i] is { } transitive)
                        foreach (int t in transitive)
                            changed |= by[b].Add(t);
                }
            }
            if (!changed)
            {
                for (int b = 0; b < n; b++)
                {
                    if (pruned[b] && by[b].Count == 0)
                    {
                        pruned[b] = false;
                        changed = true;
                    }
                }
                if (changed)
                    Array.Clear(by);
            }
        }

        var probed = new HashSet<Instruction>();
        var impliedBy = new Dictionary<Instruction, Instruction[]>();
        for (int b = 0; b < n; b++)
        {
            if (pruned[b])
                impliedBy.Add(graph.Leaders[b], [.. by[b].Order().Select(i => graph.Leaders[i])]);
            else if (probeable[b])
                probed.Add(graph.Leaders[b]);
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
    /// it gives post-dominators.
    /// </summary>
    private static int[] Dominators(int n, IReadOnlyList<int> roots, List<int>[] forward, List<int>[] backward)
    {
        // Reverse postorder from the roots; the virtual root is number n in postorder terms.
        var order = new int[n];
        Array.Fill(order, -1);
        var rpo = new List<int>(n);
        var visited = new bool[n];
        foreach (int root in roots)
        {
            if (visited[root])
                continue;
            // Iterative DFS, recording postorder.
            var stack = new Stack<(int Node, int Next)>();
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
        for (int i = 0; i < rpo.Count; i++)
            order[rpo[i]] = i;

        var isRoot = new bool[n];
        foreach (int root in roots)
            isRoot[root] = true;
        var idom = new int[n];
        Array.Fill(idom, Unreachable);
        foreach (int root in roots)
            idom[root] = VirtualRoot;

        int Intersect(int a, int b)
        {
            while (a != b)
            {
                if (a == VirtualRoot || b == VirtualRoot)
                    return VirtualRoot;
                while (a != VirtualRoot && b != VirtualRoot && order[a] > order[b])
                    a = idom[a];
                while (a != VirtualRoot && b != VirtualRoot && order[b] > order[a])
                    b = idom[b];
            }
            return a;
        }

        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (int node in rpo)
            {
                if (isRoot[node])
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
