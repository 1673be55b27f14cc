using Kcov.Coverage;
using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace Kcov.Instrumentation;

/// <summary>
/// Rewrites one method body: <c>Trace.Pc</c> at each basic block leader (trace-pc), a comparison
/// probe before each integer comparison, conditional branch and switch (trace-cmp).
/// <para>
/// Redirection: everything that referred to an instruction that gets code in front of it (branch
/// operands, switch tables, try/handler/filter boundaries, sequence points, local scopes, async
/// stepping offsets, state machine scopes) must now refer to the first inserted instruction. Rather
/// than find every such reference, the instruction object itself is turned into the first inserted
/// instruction and a copy of the original goes after the inserted code: all references follow for free.
/// </para>
/// Short branches are widened first (SimplifyMacros) and shortened again where they still reach (OptimizeMacros).
/// </summary>
internal sealed class MethodRewriter
{
    private readonly ModuleDefinition _module;
    private readonly RuntimeReferences _runtime;
    private readonly SwitchCases _cases;
    private readonly SiteTable _sites;
    private readonly TraceModes _modes;
    private readonly CallSiteHooks? _calls;

    public MethodRewriter(ModuleDefinition module, RuntimeReferences runtime, SwitchCases cases, SiteTable sites, TraceModes modes,
        CallSiteHooks? calls = null)
    {
        _calls = calls;
        _module = module;
        _runtime = runtime;
        _cases = cases;
        _sites = sites;
        _modes = modes;
    }

    /// <summary>Whether the last rewritten method's comparisons went untraced because its stack could not be typed.</summary>
    public bool LastMethodUntyped { get; private set; }

    /// <summary>Rewrites <paramref name="method"/>, which must have a body; returns the number of sites it got.</summary>
    public int Rewrite(MethodDefinition method)
    {
        var body = method.Body;
        var original = body.Instructions.ToArray();
        var offsets = original.Select(i => i.Offset).ToArray();
        int sitesBefore = _sites.Count;
        _sites.BeginMethod(method);
        body.SimplifyMacros();

        var leaders = _modes.HasFlag(TraceModes.Pc) ? BasicBlocks.Leaders(body) : [];
        // Taken now: the loop below turns the original instruction objects into probes.
        var flow = ControlFlow.Of(body, leaders);
        var stack = _modes.HasFlag(TraceModes.Cmp) ? EvaluationStack.Simulate(body) : null;
        LastMethodUntyped = _modes.HasFlag(TraceModes.Cmp) && stack is null;
        var spills = new SpillLocals(body, _module);

        var output = new List<Instruction>(original.Length * 2);
        var inserted = new List<Instruction>();
        for (int i = 0; i < original.Length; i++)
        {
            var instruction = original[i];
            inserted.Clear();
            MethodReference? hook = null;
            // Nothing may come between a prefix and its instruction, nor between a tail call and its ret.
            bool afterPrefix = i > 0 && original[i - 1].OpCode.OpCodeType == OpCodeType.Prefix;
            bool afterTailCall = i > 1 && original[i - 2].OpCode.Code == Code.Tail;
            if (!afterPrefix && !afterTailCall)
            {
                if (leaders.Contains(instruction))
                    EmitBlock(inserted, _sites.Add(SiteKind.Block, offsets[i]));
                if (stack?.Before(instruction) is { } before)
                    EmitComparison(instruction, before, offsets[i], inserted, spills);
                hook = _calls?.TryHook(instruction, offsets[i], inserted);
            }
            if (inserted.Count == 0)
            {
                output.Add(instruction);
                continue;
            }
            var copy = Instruction.Create(OpCodes.Nop);
            copy.OpCode = hook is null ? instruction.OpCode : OpCodes.Call;
            copy.Operand = hook ?? instruction.Operand;
            instruction.OpCode = inserted[0].OpCode;
            instruction.Operand = inserted[0].Operand;
            output.Add(instruction);
            for (int k = 1; k < inserted.Count; k++)
                output.Add(inserted[k]);
            output.Add(copy);
        }

        // Clear and Add only relink instructions; Insert would walk the debug info on every call.
        body.Instructions.Clear();
        foreach (var instruction in output)
            body.Instructions.Add(instruction);
        body.OptimizeMacros();
        _sites.EndMethod(flow);
        return _sites.Count - sitesBefore;
    }

    /// <summary><c>Trace.Pc(pc);</c> = <c>ldc.i8 pc; call Trace::Pc(uint64)</c>.</summary>
    private void EmitBlock(List<Instruction> il, ulong pc)
    {
        il.Add(Instruction.Create(OpCodes.Ldc_I8, unchecked((long)pc)));
        il.Add(Instruction.Create(OpCodes.Call, _runtime.Pc));
    }

    private void EmitComparison(Instruction instruction, StackSlot[] before, int offset, List<Instruction> il, SpillLocals spills)
    {
        switch (instruction.OpCode.Code)
        {
            case Code.Ceq or Code.Cgt or Code.Cgt_Un or Code.Clt or Code.Clt_Un
                or Code.Beq or Code.Bne_Un or Code.Bge or Code.Bge_Un or Code.Bgt or Code.Bgt_Un
                or Code.Ble or Code.Ble_Un or Code.Blt or Code.Blt_Un:
                if (before.Length >= 2)
                    EmitTwoOperands(before[^2], before[^1], offset, il, spills);
                break;
            case Code.Brtrue or Code.Brfalse:
                if (before.Length >= 1)
                    EmitAgainstZero(before[^1], offset, il, spills);
                break;
            case Code.Switch:
                if (before.Length >= 1 && before[^1].Kind is StackKind.Int32 or StackKind.NativeInt)
                    EmitSwitch(((Instruction[])instruction.Operand).Length, offset, il);
                break;
        }
    }

    /// <summary>
    /// <c>a OP b</c> on integers becomes (arg1 is the literal operand when there is one):
    /// <code>
    /// stloc b'; stloc a'                          // spill both
    /// ldloc a'; [conv]; ldloc b'; [conv]          // or b' first when only b is a literal
    /// ldc.i8 pc; call Trace::[Const]Cmp4|8
    /// ldloc a'; ldloc b'                          // reload, then the original OP
    /// </code>
    /// </summary>
    private void EmitTwoOperands(StackSlot a, StackSlot b, int offset, List<Instruction> il, SpillLocals spills)
    {
        int size = (a.Kind, b.Kind) switch
        {
            (StackKind.Int32, StackKind.Int32) => 4,
            (StackKind.Int64, StackKind.Int64) => 8,
            (StackKind.NativeInt, StackKind.Int32 or StackKind.NativeInt) or (StackKind.Int32, StackKind.NativeInt) => 8,
            _ => 0,
        };
        if (size == 0)
            return;
        var localA = spills.Get(a.Kind, 0);
        var localB = spills.Get(b.Kind, 1);
        bool constant = a.Constant is not null || b.Constant is not null;
        bool swap = a.Constant is null && b.Constant is not null;
        ulong pc = _sites.Add(SiteKind.Cmp, offset);
        il.Add(Instruction.Create(OpCodes.Stloc, localB));
        il.Add(Instruction.Create(OpCodes.Stloc, localA));
        LoadWidened(il, swap ? localB : localA, swap ? b.Kind : a.Kind, size);
        LoadWidened(il, swap ? localA : localB, swap ? a.Kind : b.Kind, size);
        il.Add(Instruction.Create(OpCodes.Ldc_I8, unchecked((long)pc)));
        il.Add(Instruction.Create(OpCodes.Call, size == 4
            ? (constant ? _runtime.ConstCmp4 : _runtime.Cmp4)
            : (constant ? _runtime.ConstCmp8 : _runtime.Cmp8)));
        il.Add(Instruction.Create(OpCodes.Ldloc, localA));
        il.Add(Instruction.Create(OpCodes.Ldloc, localB));
    }

    /// <summary>
    /// <c>brtrue/brfalse v</c> on an integer is a comparison with the constant 0:
    /// <code>stloc v'; ldc 0; ldloc v'; [conv.u8]; ldc.i8 pc; call Trace::ConstCmp4|8; ldloc v'</code>
    /// </summary>
    private void EmitAgainstZero(StackSlot value, int offset, List<Instruction> il, SpillLocals spills)
    {
        if (!value.IsInteger)
            return;
        int size = value.Kind == StackKind.Int32 ? 4 : 8;
        var local = spills.Get(value.Kind, 0);
        ulong pc = _sites.Add(SiteKind.Cmp, offset);
        il.Add(Instruction.Create(OpCodes.Stloc, local));
        il.Add(size == 4 ? Instruction.Create(OpCodes.Ldc_I4, 0) : Instruction.Create(OpCodes.Ldc_I8, 0L));
        LoadWidened(il, local, value.Kind, size);
        il.Add(Instruction.Create(OpCodes.Ldc_I8, unchecked((long)pc)));
        il.Add(Instruction.Create(OpCodes.Call, size == 4 ? _runtime.ConstCmp4 : _runtime.ConstCmp8));
        il.Add(Instruction.Create(OpCodes.Ldloc, local));
    }

    /// <summary><c>switch</c> on v: <c>dup; conv.u8; ldsfld ulong[] &lt;KcovSwitchCases&gt;::CasesN; ldc.i8 pc; call Trace::Switch</c>.</summary>
    private void EmitSwitch(int targets, int offset, List<Instruction> il)
    {
        ulong pc = _sites.Add(SiteKind.Switch, offset);
        il.Add(Instruction.Create(OpCodes.Dup));
        il.Add(Instruction.Create(OpCodes.Conv_U8));
        il.Add(Instruction.Create(OpCodes.Ldsfld, _cases.For(targets)));
        il.Add(Instruction.Create(OpCodes.Ldc_I8, unchecked((long)pc)));
        il.Add(Instruction.Create(OpCodes.Call, _runtime.Switch));
    }

    /// <summary>Loads a spilled operand as the trace call's parameter type: uint for size 4, ulong for size 8.</summary>
    private static void LoadWidened(List<Instruction> il, VariableDefinition local, StackKind kind, int size)
    {
        il.Add(Instruction.Create(OpCodes.Ldloc, local));
        if (size == 8 && kind == StackKind.Int32)
            il.Add(Instruction.Create(OpCodes.Conv_I8));
        else if (size == 8 && kind == StackKind.NativeInt)
            il.Add(Instruction.Create(OpCodes.Conv_U8));
    }
}
