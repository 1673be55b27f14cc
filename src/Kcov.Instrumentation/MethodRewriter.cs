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
    private readonly ModuleProbes _probes;
    private readonly SwitchCases _cases;
    private readonly SiteTable _sites;
    private readonly TraceModes _modes;
    private readonly InstrumentationOptions _options;
    private readonly CallSiteHooks? _calls;

    public MethodRewriter(ModuleDefinition module, RuntimeReferences runtime, ModuleProbes probes, SwitchCases cases, SiteTable sites,
        InstrumentationOptions options, CallSiteHooks? calls = null)
    {
        _calls = calls;
        _module = module;
        _runtime = runtime;
        _probes = probes;
        _cases = cases;
        _sites = sites;
        _modes = options.Trace;
        _options = options;
    }

    private MethodBody? _body;
    private VariableDefinition? _frame;

    /// <summary>The method's frame local, added with its first probe: only its address is used, to tell which thread runs.</summary>
    private Instruction LoadFrame()
    {
        if (_frame is null)
        {
            _frame = new VariableDefinition(_module.TypeSystem.Byte);
            _body!.Variables.Add(_frame);
        }
        return Instruction.Create(OpCodes.Ldloca, _frame);
    }

    /// <summary>Comparison sites of 1 and 2-byte operands so far, over every method this rewriter rewrote.</summary>
    public int Cmp1Sites { get; private set; }
    public int Cmp2Sites { get; private set; }

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

        // Nothing may come between a prefix and its instruction, nor between a tail call and its ret.
        bool CanProbe(int i) => !(i > 0 && original[i - 1].OpCode.OpCodeType == OpCodeType.Prefix)
            && !(i > 1 && original[i - 2].OpCode.Code == Code.Tail);
        var leaders = _modes.HasFlag(TraceModes.Pc) ? BasicBlocks.Leaders(body) : [];
        // Taken now: the loop below turns the original instruction objects into probes.
        var flow = ControlFlow.Of(body, leaders);
        var indexAt = new Dictionary<int, int>(original.Length);
        for (int i = 0; i < original.Length; i++)
            indexAt[offsets[i]] = i;
        var blocks = leaders.Count == 0 ? null
            : BlockPruning.Decide(flow, start => CanProbe(indexAt[start]), _options.Prune && !_options.SharpFuzzEdgeMap);
        var blockSite = new Dictionary<int, int>();
        var stack = _modes.HasFlag(TraceModes.Cmp) ? EvaluationStack.Simulate(body) : null;
        LastMethodUntyped = _modes.HasFlag(TraceModes.Cmp) && stack is null;
        var spills = new SpillLocals(body, _module);
        _frame = null;
        _body = body;

        var output = new List<Instruction>(original.Length * 2);
        var inserted = new List<Instruction>();
        for (int i = 0; i < original.Length; i++)
        {
            var instruction = original[i];
            inserted.Clear();
            MethodReference? hook = null;
            if (CanProbe(i))
            {
                if (blocks?.Probed.Contains(offsets[i]) == true)
                {
                    ulong pc = _sites.Add(SiteKind.Block, offsets[i]);
                    blockSite.Add(offsets[i], SiteId.IndexOf(pc));
                    if (_options.SharpFuzzEdgeMap)
                        _probes.EmitEdgeMap(inserted, SiteId.IndexOf(pc));
                    else
                        EmitBlock(inserted, pc);
                }
                else if (blocks?.ImpliedBy.ContainsKey(offsets[i]) == true)
                    blockSite.Add(offsets[i], SiteId.IndexOf(_sites.Add(SiteKind.ImpliedBlock, offsets[i])));
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

        foreach (var (implied, by) in blocks?.ImpliedBy ?? [])
            foreach (int probed in by)
                _sites.AddImplication(blockSite[implied], blockSite[probed]);

        // Clear and Add only relink instructions; Insert would walk the debug info on every call.
        body.Instructions.Clear();
        foreach (var instruction in output)
            body.Instructions.Add(instruction);
        body.OptimizeMacros();
        _sites.EndMethod(flow);
        return _sites.Count - sitesBefore;
    }

    /// <summary><c>&lt;Kcov&gt;.Pc(ref frame, index);</c> = <c>ldloca frame; ldc.i4 index; call &lt;Kcov&gt;::Pc</c> (see <see cref="ModuleProbes"/>).</summary>
    private void EmitBlock(List<Instruction> il, ulong pc)
    {
        il.Add(LoadFrame());
        il.Add(LoadIndex(pc));
        il.Add(Instruction.Create(OpCodes.Call, _probes.Pc));
    }

    /// <summary>The site's index in the module, the argument every probe takes.</summary>
    private static Instruction LoadIndex(ulong pc) => Instruction.Create(OpCodes.Ldc_I4, SiteId.IndexOf(pc));

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
                    EmitSwitch(before[^1], ((Instruction[])instruction.Operand).Length, offset, il);
                break;
        }
    }

    /// <summary>
    /// <c>a OP b</c> on integers becomes (arg1 is the literal operand when there is one):
    /// <code>
    /// stloc b'; stloc a'                          // spill both
    /// ldloca frame
    /// ldloc a'; [conv]; ldloc b'; [conv]          // or b' first when only b is a literal
    /// ldc.i4 index; call &lt;Kcov&gt;::[Const]Cmp1|2|4|8
    /// ldloc a'; ldloc b'                          // reload, then the original OP
    /// </code>
    /// The size is kcov's: 8 for int64 and native int, 1 or 2 where both int32 operands are known to
    /// be that narrow (<see cref="StackSlot.ComparisonSize"/>), else 4.
    /// </summary>
    private void EmitTwoOperands(StackSlot a, StackSlot b, int offset, List<Instruction> il, SpillLocals spills)
    {
        int size = (a.Kind, b.Kind) switch
        {
            (StackKind.Int32, StackKind.Int32) => StackSlot.ComparisonSize(a, b),
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
        il.Add(LoadFrame());
        LoadWidened(il, swap ? localB : localA, swap ? b.Kind : a.Kind, size);
        LoadWidened(il, swap ? localA : localB, swap ? a.Kind : b.Kind, size);
        il.Add(LoadIndex(pc));
        il.Add(Instruction.Create(OpCodes.Call, _probes.For(Comparison(size, constant))));
        il.Add(Instruction.Create(OpCodes.Ldloc, localA));
        il.Add(Instruction.Create(OpCodes.Ldloc, localB));
    }

    /// <summary>
    /// <c>brtrue/brfalse v</c> on an integer is a comparison with the constant 0, of v's size:
    /// <code>stloc v'; ldloca frame; ldc 0; ldloc v'; [conv]; ldc.i4 index; call &lt;Kcov&gt;::ConstCmp1|2|4|8; ldloc v'</code>
    /// </summary>
    private void EmitAgainstZero(StackSlot value, int offset, List<Instruction> il, SpillLocals spills)
    {
        if (!value.IsInteger)
            return;
        int size = value.Kind == StackKind.Int32 ? StackSlot.ComparisonSize(value, null) : 8;
        var local = spills.Get(value.Kind, 0);
        ulong pc = _sites.Add(SiteKind.Cmp, offset);
        il.Add(Instruction.Create(OpCodes.Stloc, local));
        il.Add(LoadFrame());
        il.Add(size == 8 ? Instruction.Create(OpCodes.Ldc_I8, 0L) : Instruction.Create(OpCodes.Ldc_I4, 0));
        LoadWidened(il, local, value.Kind, size);
        il.Add(LoadIndex(pc));
        il.Add(Instruction.Create(OpCodes.Call, _probes.For(Comparison(size, constant: true))));
        il.Add(Instruction.Create(OpCodes.Ldloc, local));
    }

    /// <summary>The <c>Trace</c> entry point of a new comparison site of <paramref name="size"/> bytes (counted in <see cref="Cmp1Sites"/>, <see cref="Cmp2Sites"/>).</summary>
    private MethodReference Comparison(int size, bool constant)
    {
        Cmp1Sites += size == 1 ? 1 : 0;
        Cmp2Sites += size == 2 ? 1 : 0;
        return size switch
        {
            1 => constant ? _runtime.ConstCmp1 : _runtime.Cmp1,
            2 => constant ? _runtime.ConstCmp2 : _runtime.Cmp2,
            4 => constant ? _runtime.ConstCmp4 : _runtime.Cmp4,
            _ => constant ? _runtime.ConstCmp8 : _runtime.Cmp8,
        };
    }

    /// <summary>
    /// <c>switch</c> on v: <c>dup; [conv.u1|u2]; conv.u8; ldsfld ulong[] &lt;KcovSwitchCases&gt;::CasesN; ldc.i4 index; call &lt;Kcov&gt;::Switch</c>.
    /// On a value known to be 1 or 2 bytes wide whose cases 0..N-1 fit that width, the cases are 8 or
    /// 16 bits and v is zero-extended from that width, as kcov does for a switch on a char or short.
    /// </summary>
    private void EmitSwitch(StackSlot value, int targets, int offset, List<Instruction> il)
    {
        int size = StackSlot.ComparisonSize(value, new StackSlot(StackKind.Int32, targets - 1));
        ulong pc = _sites.Add(SiteKind.Switch, offset);
        il.Add(Instruction.Create(OpCodes.Dup));
        if (size == 1)
            il.Add(Instruction.Create(OpCodes.Conv_U1));
        else if (size == 2)
            il.Add(Instruction.Create(OpCodes.Conv_U2));
        il.Add(Instruction.Create(OpCodes.Conv_U8));
        il.Add(Instruction.Create(OpCodes.Ldsfld, _cases.For(targets, size is 1 or 2 ? size * 8 : 32)));
        il.Add(LoadIndex(pc));
        il.Add(Instruction.Create(OpCodes.Call, _probes.For(_runtime.Switch)));
    }

    /// <summary>
    /// Loads a spilled operand as the trace call's parameter type: byte, ushort, uint or ulong for
    /// size 1, 2, 4, 8. An int32 passed as a byte or ushort is truncated by the call itself (ECMA-335
    /// III.1.6, implicit argument coercion), as it is reinterpreted as a uint for size 4: kcov's args
    /// are the operand's bits zero-extended from its size, so an sbyte -1 is recorded as 0xff.
    /// </summary>
    private static void LoadWidened(List<Instruction> il, VariableDefinition local, StackKind kind, int size)
    {
        il.Add(Instruction.Create(OpCodes.Ldloc, local));
        if (size == 8 && kind == StackKind.Int32)
            il.Add(Instruction.Create(OpCodes.Conv_I8));
        else if (size == 8 && kind == StackKind.NativeInt)
            il.Add(Instruction.Create(OpCodes.Conv_U8));
    }
}
