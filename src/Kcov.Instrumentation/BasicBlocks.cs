using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// The leaders (first instructions) of a method's basic blocks: the entry, every branch and switch
/// target, the instruction after a conditional branch or switch, and the first instruction of every
/// try, handler and filter. After an unconditional transfer (br, leave, ret, throw, rethrow,
/// endfinally, endfilter) the next instruction starts a block only if something else makes it one:
/// otherwise nothing can reach it.
/// </summary>
internal static class BasicBlocks
{
    public static HashSet<Instruction> Leaders(MethodBody body)
    {
        var leaders = new HashSet<Instruction>();
        var instructions = body.Instructions;
        if (instructions.Count == 0)
            return leaders;
        leaders.Add(instructions[0]);
        foreach (var handler in body.ExceptionHandlers)
        {
            leaders.Add(handler.TryStart);
            leaders.Add(handler.HandlerStart);
            if (handler.FilterStart is not null)
                leaders.Add(handler.FilterStart);
        }
        for (int i = 0; i < instructions.Count; i++)
        {
            var instruction = instructions[i];
            switch (instruction.Operand)
            {
                case Instruction target:
                    leaders.Add(target);
                    break;
                case Instruction[] targets:
                    leaders.UnionWith(targets);
                    break;
            }
            if (instruction.OpCode.FlowControl == FlowControl.Cond_Branch && i + 1 < instructions.Count)
                leaders.Add(instructions[i + 1]);
        }
        return leaders;
    }
}
