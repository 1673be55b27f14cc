using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// The control-flow graph of a method's basic blocks (after SimplifyMacros): block i starts at
/// <see cref="Leaders"/>[i], in instruction order. Edges are branches, switch targets and
/// fall-throughs; a block ending in ret, throw, rethrow, endfinally, endfilter or jmp has none
/// (an exit). Roots are the entry block and every handler and filter start, which exceptions reach.
/// </summary>
internal sealed class BlockGraph
{
    private BlockGraph(Instruction[] leaders, List<int>[] successors, List<int>[] predecessors, bool[] isRoot, int[] roots, int[] exits)
    {
        Leaders = leaders;
        Successors = successors;
        Predecessors = predecessors;
        IsRoot = isRoot;
        Roots = roots;
        Exits = exits;
    }

    public Instruction[] Leaders { get; }
    public int Count => Leaders.Length;

    /// <summary>Distinct successors of each block.</summary>
    public List<int>[] Successors { get; }

    /// <summary>Distinct predecessors of each block.</summary>
    public List<int>[] Predecessors { get; }

    public bool[] IsRoot { get; }
    public int[] Roots { get; }

    /// <summary>Blocks without successors.</summary>
    public int[] Exits { get; }

    public static BlockGraph Build(MethodBody body, HashSet<Instruction> leaderSet)
    {
        var instructions = body.Instructions;
        var index = new Dictionary<Instruction, int>(instructions.Count);
        for (int i = 0; i < instructions.Count; i++)
            index[instructions[i]] = i;
        var leaders = leaderSet.OrderBy(l => index[l]).ToArray();
        var blockOf = new Dictionary<Instruction, int>(leaders.Length);
        for (int b = 0; b < leaders.Length; b++)
            blockOf[leaders[b]] = b;

        int n = leaders.Length;
        var successors = new List<int>[n];
        var predecessors = new List<int>[n];
        for (int b = 0; b < n; b++)
        {
            successors[b] = [];
            predecessors[b] = [];
        }
        void Edge(int from, Instruction to)
        {
            int target = blockOf[to];
            if (!successors[from].Contains(target))
            {
                successors[from].Add(target);
                predecessors[target].Add(from);
            }
        }

        for (int b = 0; b < n; b++)
        {
            int end = b + 1 < n ? index[leaders[b + 1]] : instructions.Count;
            var last = instructions[end - 1];
            switch (last.OpCode.FlowControl)
            {
                case FlowControl.Branch: // br, leave
                    Edge(b, (Instruction)last.Operand);
                    break;
                case FlowControl.Cond_Branch: // conditional branches and switch
                    if (last.Operand is Instruction[] targets)
                        foreach (var target in targets)
                            Edge(b, target);
                    else
                        Edge(b, (Instruction)last.Operand);
                    if (end < instructions.Count)
                        Edge(b, instructions[end]);
                    break;
                case FlowControl.Return: // ret, endfinally, endfilter
                case FlowControl.Throw: // throw, rethrow
                    break;
                default:
                    // jmp leaves the method; everything else falls through to the next block.
                    if (last.OpCode.Code != Code.Jmp && end < instructions.Count)
                        Edge(b, instructions[end]);
                    break;
            }
        }

        var isRoot = new bool[n];
        isRoot[0] = true;
        foreach (var handler in body.ExceptionHandlers)
        {
            isRoot[blockOf[handler.HandlerStart]] = true;
            if (handler.FilterStart is not null)
                isRoot[blockOf[handler.FilterStart]] = true;
        }
        var roots = Enumerable.Range(0, n).Where(b => isRoot[b]).ToArray();
        var exits = Enumerable.Range(0, n).Where(b => successors[b].Count == 0).ToArray();
        return new BlockGraph(leaders, successors, predecessors, isRoot, roots, exits);
    }
}
