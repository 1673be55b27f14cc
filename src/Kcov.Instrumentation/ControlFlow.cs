using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// The basic blocks of a method body as the input had them (original IL offsets): each block's IL
/// range and its successors, for the PC map's line spans and edges. Taken before the body is
/// rewritten, since rewriting reuses the instruction objects.
/// </summary>
internal sealed class ControlFlow
{
    /// <summary>One block: [Start, End) in original offsets, where its last instruction is, and where it can go.</summary>
    public sealed record Block(int Start, int End, int LastOffset, bool Entered, IReadOnlyList<Successor> Successors);

    /// <summary>A successor block by its start offset; a branch outcome when its block ends in a conditional branch or switch.</summary>
    public readonly record struct Successor(int Start, bool IsBranch, int Outcome);

    private ControlFlow(IReadOnlyList<Block> blocks) => Blocks = blocks;

    public IReadOnlyList<Block> Blocks { get; }

    public static ControlFlow Of(MethodBody body, HashSet<Instruction> leaders)
    {
        var instructions = body.Instructions;
        var entered = new HashSet<Instruction>();
        if (instructions.Count > 0)
            entered.Add(instructions[0]);
        foreach (var handler in body.ExceptionHandlers)
        {
            entered.Add(handler.HandlerStart);
            if (handler.FilterStart is not null)
                entered.Add(handler.FilterStart);
        }
        var blocks = new List<Block>();
        for (int i = 0; i < instructions.Count;)
        {
            var first = instructions[i];
            int j = i + 1;
            while (j < instructions.Count && !leaders.Contains(instructions[j]))
                j++;
            var last = instructions[j - 1];
            var next = j < instructions.Count ? instructions[j] : null;
            // The last block runs to the end of the body (SimplifyMacros changed instruction sizes, not offsets).
            int end = next?.Offset ?? int.MaxValue;
            blocks.Add(new Block(first.Offset, end, last.Offset, entered.Contains(first), Successors(last, next)));
            i = j;
        }
        return new ControlFlow(blocks);
    }

    private static List<Successor> Successors(Instruction last, Instruction? next)
    {
        var flow = last.OpCode.FlowControl;
        switch (flow)
        {
            case FlowControl.Cond_Branch:
                var targets = last.Operand switch
                {
                    Instruction one => [one],
                    Instruction[] many => many,
                    _ => Array.Empty<Instruction>(),
                };
                // Outcome 0 is the fall-through, then each distinct target: a switch whose cases share a
                // label has one outcome per label, since only the block reached can be told apart.
                var distinct = new List<Instruction>();
                if (next is not null)
                    distinct.Add(next);
                foreach (var target in targets)
                    if (!distinct.Contains(target))
                        distinct.Add(target);
                bool isBranch = distinct.Count > 1;
                return [.. distinct.Select((t, n) => new Successor(t.Offset, isBranch, isBranch ? n : 0))];
            case FlowControl.Branch:
                return last.Operand is Instruction jump ? [new Successor(jump.Offset, false, 0)] : [];
            case FlowControl.Return or FlowControl.Throw:
                return [];
            default:
                // endfinally and endfilter go where the runtime sends them: no edge we can name.
                if (last.OpCode.Code is Code.Endfinally or Code.Endfilter)
                    return [];
                return next is null ? [] : [new Successor(next.Offset, false, 0)];
        }
    }
}
