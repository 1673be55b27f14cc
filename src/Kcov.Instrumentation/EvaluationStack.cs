using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// Types of the evaluation stack before every instruction of a method body, found by simulating
/// each opcode's stack transition (ECMA-335 III) from the entry point and every handler start
/// until nothing changes. trace-cmp needs it to pick Cmp1, Cmp2, Cmp4 or Cmp8 (an int32 loaded
/// from a byte, char or short, or converted to one, stays known as such), to know a comparison is
/// on integers at all, and to see a literal operand. Unreachable instructions have no state.
/// </summary>
internal sealed class EvaluationStack
{
    private readonly StackSlot[]?[] _before;
    private readonly Dictionary<Instruction, int> _index;

    private EvaluationStack(StackSlot[]?[] before, Dictionary<Instruction, int> index)
    {
        _before = before;
        _index = index;
    }

    /// <summary>The stack before <paramref name="instruction"/>, top last; null if unreachable.</summary>
    public StackSlot[]? Before(Instruction instruction) => _before[_index[instruction]];

    /// <summary>Simulates <paramref name="body"/> (after SimplifyMacros); null when its IL is inconsistent.</summary>
    public static EvaluationStack? Simulate(MethodBody body)
    {
        var instructions = body.Instructions;
        var index = new Dictionary<Instruction, int>(instructions.Count);
        for (int i = 0; i < instructions.Count; i++)
            index[instructions[i]] = i;
        var before = new StackSlot[]?[instructions.Count];
        var work = new Stack<int>();

        bool Flow(int target, StackSlot[] stack)
        {
            var existing = before[target];
            if (existing is null)
            {
                before[target] = stack;
                work.Push(target);
                return true;
            }
            if (existing.Length != stack.Length)
                return false;
            bool changed = false;
            var merged = new StackSlot[stack.Length];
            for (int i = 0; i < stack.Length; i++)
            {
                merged[i] = existing[i].Merge(stack[i]);
                changed |= merged[i] != existing[i];
            }
            if (changed)
            {
                before[target] = merged;
                work.Push(target);
            }
            return true;
        }

        if (instructions.Count == 0)
            return new EvaluationStack(before, index);
        Flow(0, []);
        foreach (var handler in body.ExceptionHandlers)
        {
            StackSlot[] exception = [new(StackKind.ObjectRef)];
            if (handler.FilterStart is not null)
                Flow(index[handler.FilterStart], exception);
            bool catches = handler.HandlerType is ExceptionHandlerType.Catch or ExceptionHandlerType.Filter;
            Flow(index[handler.HandlerStart], catches ? exception : []);
        }

        while (work.Count > 0)
        {
            int i = work.Pop();
            var instruction = instructions[i];
            var stack = new List<StackSlot>(before[i]!);
            if (!Step(body.Method, instruction, stack))
                return null;
            var after = stack.ToArray();
            var code = instruction.OpCode.Code;
            switch (instruction.Operand)
            {
                case Instruction target when code == Code.Leave:
                    if (!Flow(index[target], []))
                        return null;
                    continue;
                case Instruction target:
                    if (!Flow(index[target], after))
                        return null;
                    break;
                case Instruction[] targets:
                    foreach (var target in targets)
                        if (!Flow(index[target], after))
                            return null;
                    break;
            }
            bool fallsThrough = instruction.OpCode.FlowControl is not (FlowControl.Branch or FlowControl.Return or FlowControl.Throw)
                && code is not (Code.Endfinally or Code.Endfilter or Code.Jmp);
            if (fallsThrough && i + 1 < instructions.Count && !Flow(i + 1, after))
                return null;
        }
        return new EvaluationStack(before, index);
    }

    /// <summary>Applies one instruction's stack transition; false when the IL pops more than there is.</summary>
    private static bool Step(MethodDefinition method, Instruction instruction, List<StackSlot> stack)
    {
        bool Pop(int n)
        {
            if (stack.Count < n)
                return false;
            stack.RemoveRange(stack.Count - n, n);
            return true;
        }
        void Push(StackKind kind, long? constant = null) => stack.Add(new StackSlot(kind, constant));

        var operand = instruction.Operand;
        switch (instruction.OpCode.Code)
        {
            case Code.Ldarg:
                var parameter = (ParameterDefinition)operand;
                stack.Add(parameter.Index < 0 || parameter == method.Body.ThisParameter
                    ? new StackSlot(method.DeclaringType.IsValueType ? StackKind.ManagedPtr : StackKind.ObjectRef)
                    : TypeKinds.SlotOf(parameter.ParameterType));
                return true;
            case Code.Ldloc:
                stack.Add(TypeKinds.SlotOf(((VariableDefinition)operand).VariableType));
                return true;
            case Code.Ldarga or Code.Ldloca or Code.Ldsflda:
                Push(StackKind.ManagedPtr);
                return true;
            case Code.Ldc_I4:
                Push(StackKind.Int32, (int)operand);
                return true;
            case Code.Ldc_I8:
                Push(StackKind.Int64, (long)operand);
                return true;
            case Code.Ldc_R4 or Code.Ldc_R8:
                Push(StackKind.Float);
                return true;
            case Code.Ldnull or Code.Ldstr:
                Push(StackKind.ObjectRef);
                return true;
            case Code.Dup:
                if (stack.Count == 0)
                    return false;
                stack.Add(stack[^1]);
                return true;
            case Code.Call or Code.Callvirt or Code.Newobj:
            {
                var callee = (MethodReference)operand;
                bool newobj = instruction.OpCode.Code == Code.Newobj;
                if (!Pop(callee.Parameters.Count + (callee.HasThis && !newobj ? 1 : 0)))
                    return false;
                if (newobj)
                    Push(TypeKinds.Of(callee.DeclaringType));
                else if (!IsVoid(callee.ReturnType))
                    stack.Add(TypeKinds.SlotOf(callee.ReturnType, callee.DeclaringType, callee as GenericInstanceMethod));
                return true;
            }
            case Code.Calli:
            {
                var site = (CallSite)operand;
                if (!Pop(site.Parameters.Count + 1 + (site.HasThis && !site.ExplicitThis ? 1 : 0)))
                    return false;
                if (!IsVoid(site.ReturnType))
                    stack.Add(TypeKinds.SlotOf(site.ReturnType));
                return true;
            }
            case Code.Ret:
                // ECMA-335 III.3.56: only the return value may be left. Anything else means the simulation went wrong.
                return stack.Count == (IsVoid(method.ReturnType) ? 0 : 1) && Pop(stack.Count);
            case Code.Ldfld:
            {
                var field = (FieldReference)operand;
                if (!Pop(1))
                    return false;
                stack.Add(TypeKinds.SlotOf(field.FieldType, field.DeclaringType));
                return true;
            }
            case Code.Ldsfld:
            {
                var field = (FieldReference)operand;
                stack.Add(TypeKinds.SlotOf(field.FieldType, field.DeclaringType));
                return true;
            }
            case Code.Ldobj or Code.Unbox_Any:
                if (!Pop(1))
                    return false;
                stack.Add(TypeKinds.SlotOf((TypeReference)operand));
                return true;
            case Code.Ldelem_Any:
                if (!Pop(2))
                    return false;
                stack.Add(TypeKinds.SlotOf((TypeReference)operand));
                return true;
            case Code.Conv_I1 or Code.Conv_U1 or Code.Conv_I2 or Code.Conv_U2 or Code.Conv_I4 or Code.Conv_U4
                or Code.Conv_Ovf_I1 or Code.Conv_Ovf_U1 or Code.Conv_Ovf_I2 or Code.Conv_Ovf_U2 or Code.Conv_Ovf_I4 or Code.Conv_Ovf_U4
                or Code.Conv_Ovf_I1_Un or Code.Conv_Ovf_U1_Un or Code.Conv_Ovf_I2_Un or Code.Conv_Ovf_U2_Un or Code.Conv_Ovf_I4_Un or Code.Conv_Ovf_U4_Un:
                return Convert(stack, StackKind.Int32, instruction.OpCode.Code);
            case Code.Conv_I8 or Code.Conv_U8 or Code.Conv_Ovf_I8 or Code.Conv_Ovf_U8 or Code.Conv_Ovf_I8_Un or Code.Conv_Ovf_U8_Un:
                return Convert(stack, StackKind.Int64, instruction.OpCode.Code);
            case Code.Conv_I or Code.Conv_U or Code.Conv_Ovf_I or Code.Conv_Ovf_U or Code.Conv_Ovf_I_Un or Code.Conv_Ovf_U_Un:
                return Convert(stack, StackKind.NativeInt, instruction.OpCode.Code);
            case Code.Conv_R4 or Code.Conv_R8 or Code.Conv_R_Un or Code.Ckfinite:
                return Convert(stack, StackKind.Float, instruction.OpCode.Code);
            case Code.Add or Code.Sub or Code.Mul or Code.Div or Code.Div_Un or Code.Rem or Code.Rem_Un
                or Code.And or Code.Or or Code.Xor or Code.Add_Ovf or Code.Add_Ovf_Un or Code.Mul_Ovf or Code.Mul_Ovf_Un
                or Code.Sub_Ovf or Code.Sub_Ovf_Un:
            {
                if (stack.Count < 2)
                    return false;
                var b = stack[^1].Kind;
                var a = stack[^2].Kind;
                Pop(2);
                Push(Binary(a, b));
                return true;
            }
            case Code.Shl or Code.Shr or Code.Shr_Un:
            {
                if (stack.Count < 2)
                    return false;
                var a = stack[^2].Kind;
                Pop(2);
                Push(a);
                return true;
            }
            case Code.Neg or Code.Not:
            {
                if (stack.Count < 1)
                    return false;
                var a = stack[^1].Kind;
                Pop(1);
                Push(a);
                return true;
            }
            case Code.Ldind_U1 or Code.Ldelem_U1:
                return PopPush(stack, instruction, StackKind.Int32, NarrowInteger.UInt8);
            case Code.Ldind_I1 or Code.Ldelem_I1:
                return PopPush(stack, instruction, StackKind.Int32, NarrowInteger.Int8);
            case Code.Ldind_U2 or Code.Ldelem_U2:
                return PopPush(stack, instruction, StackKind.Int32, NarrowInteger.UInt16);
            case Code.Ldind_I2 or Code.Ldelem_I2:
                return PopPush(stack, instruction, StackKind.Int32, NarrowInteger.Int16);
            case Code.Ldind_I4 or Code.Ldind_U4 or Code.Ldelem_I4 or Code.Ldelem_U4:
                return PopPush(stack, instruction, StackKind.Int32);
            case Code.Ldind_I8 or Code.Ldelem_I8:
                return PopPush(stack, instruction, StackKind.Int64);
            case Code.Ldind_I or Code.Ldelem_I or Code.Ldlen or Code.Ldvirtftn or Code.Localloc:
                return PopPush(stack, instruction, StackKind.NativeInt);
            case Code.Ldftn:
                Push(StackKind.NativeInt);
                return true;
            case Code.Ldind_R4 or Code.Ldind_R8 or Code.Ldelem_R4 or Code.Ldelem_R8:
                return PopPush(stack, instruction, StackKind.Float);
            case Code.Ldind_Ref or Code.Ldelem_Ref or Code.Box or Code.Newarr or Code.Castclass or Code.Isinst:
                return PopPush(stack, instruction, StackKind.ObjectRef);
            case Code.Ldflda or Code.Ldelema or Code.Unbox or Code.Refanyval:
                return PopPush(stack, instruction, StackKind.ManagedPtr);
            case Code.Mkrefany or Code.Refanytype:
                return PopPush(stack, instruction, StackKind.ValueType);
            case Code.Ldtoken or Code.Arglist:
                Push(StackKind.ValueType);
                return true;
            case Code.Sizeof:
                Push(StackKind.Int32);
                return true;
            case Code.Ceq or Code.Cgt or Code.Cgt_Un or Code.Clt or Code.Clt_Un:
                if (!Pop(2))
                    return false;
                Push(StackKind.Int32);
                return true;
            case Code.Leave or Code.Endfinally:
                stack.Clear();
                return true;
        }
        // What is left pushes nothing: stores, branches, prefixes, throw, nop... Pop per the opcode table.
        if (instruction.OpCode.StackBehaviourPush != StackBehaviour.Push0)
            return false;
        return Pop(PopCount(instruction.OpCode.StackBehaviourPop));
    }

    /// <summary>void, also behind modifiers (an init accessor returns <c>void modreq(IsExternalInit)</c>).</summary>
    private static bool IsVoid(TypeReference type)
    {
        while (type is IModifierType modified)
            type = modified.ElementType;
        return type.MetadataType == MetadataType.Void;
    }

    private static bool PopPush(List<StackSlot> stack, Instruction instruction, StackKind kind, NarrowInteger narrow = NarrowInteger.None)
    {
        int pops = PopCount(instruction.OpCode.StackBehaviourPop);
        if (stack.Count < pops)
            return false;
        stack.RemoveRange(stack.Count - pops, pops);
        stack.Add(new StackSlot(kind, null, narrow));
        return true;
    }

    private static bool Convert(List<StackSlot> stack, StackKind kind, Code code)
    {
        if (stack.Count == 0)
            return false;
        var value = stack[^1];
        // A literal stays a literal through a conversion: C# loads `5L` as ldc.i4.5; conv.i8.
        long? constant = kind == StackKind.Float || value.Constant is not { } c ? null : code switch
        {
            Code.Conv_I1 => (sbyte)c,
            Code.Conv_U1 => (byte)c,
            Code.Conv_I2 => (short)c,
            Code.Conv_U2 => (ushort)c,
            Code.Conv_I4 => (int)c,
            Code.Conv_U4 => (uint)c,
            Code.Conv_I8 or Code.Conv_I => c,
            // conv.u8 / conv.u of an int32 zero-extends it.
            Code.Conv_U8 or Code.Conv_U => value.Kind == StackKind.Int32 ? (uint)c : c,
            _ => null,
        };
        var narrow = code switch
        {
            Code.Conv_U1 or Code.Conv_Ovf_U1 or Code.Conv_Ovf_U1_Un => NarrowInteger.UInt8,
            Code.Conv_I1 or Code.Conv_Ovf_I1 or Code.Conv_Ovf_I1_Un => NarrowInteger.Int8,
            Code.Conv_U2 or Code.Conv_Ovf_U2 or Code.Conv_Ovf_U2_Un => NarrowInteger.UInt16,
            Code.Conv_I2 or Code.Conv_Ovf_I2 or Code.Conv_Ovf_I2_Un => NarrowInteger.Int16,
            _ => NarrowInteger.None,
        };
        stack[^1] = new StackSlot(kind, constant, narrow);
        return true;
    }

    /// <summary>ECMA-335 III.1.5 table 2 (binary numeric operations), the cases that matter here.</summary>
    private static StackKind Binary(StackKind a, StackKind b) => (a, b) switch
    {
        (StackKind.Int32, StackKind.Int32) => StackKind.Int32,
        (StackKind.Int64, StackKind.Int64) => StackKind.Int64,
        (StackKind.NativeInt, StackKind.Int32 or StackKind.NativeInt) or (StackKind.Int32, StackKind.NativeInt) => StackKind.NativeInt,
        (StackKind.Float, StackKind.Float) => StackKind.Float,
        (StackKind.ManagedPtr, StackKind.Int32 or StackKind.NativeInt) or (StackKind.Int32 or StackKind.NativeInt, StackKind.ManagedPtr) => StackKind.ManagedPtr,
        (StackKind.ManagedPtr, StackKind.ManagedPtr) => StackKind.NativeInt,
        _ => StackKind.Unknown,
    };

    private static int PopCount(StackBehaviour behaviour) => behaviour switch
    {
        StackBehaviour.Pop0 => 0,
        StackBehaviour.Pop1 or StackBehaviour.Popi or StackBehaviour.Popref => 1,
        StackBehaviour.Pop1_pop1 or StackBehaviour.Popi_pop1 or StackBehaviour.Popi_popi or StackBehaviour.Popi_popi8
            or StackBehaviour.Popi_popr4 or StackBehaviour.Popi_popr8 or StackBehaviour.Popref_pop1 or StackBehaviour.Popref_popi => 2,
        StackBehaviour.Popi_popi_popi or StackBehaviour.Popref_popi_popi or StackBehaviour.Popref_popi_popi8
            or StackBehaviour.Popref_popi_popr4 or StackBehaviour.Popref_popi_popr8 or StackBehaviour.Popref_popi_popref => 3,
        _ => 0,
    };
}
