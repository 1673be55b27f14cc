using System.Runtime.CompilerServices;

namespace Kcov;

/// <summary>
/// The entry points instrumented code calls: kcov's __sanitizer_cov_trace_* for .NET.
/// Each one reads the calling thread's task (one thread-static read), checks the mode,
/// checks the bounds, stores the entry and then publishes the new count, as kcov.c does.
/// They never allocate, lock or throw: a thread that is not bound records nothing, and
/// a full area drops the record and leaves the count in bounds.
/// <para>
/// Only the first check is inlined into the instrumented method: whether any thread in the
/// process traces at all. Where none does, a block costs one static load and a branch. The
/// rest stays out of line: inlining its thread-static lookup into every block made traced
/// runs of real libraries up to twice as slow (measured with bench/Kcov.Instrumentation.Bench
/// on Markdig and YamlDotNet), because the JIT no longer hoists the lookup and the code grows.
/// </para>
/// </summary>
public static unsafe class Trace
{
    private const ulong Size1 = 0 << 1, Size2 = 1 << 1, Size4 = 2 << 1, Size8 = 3 << 1;
    private const ulong Const = KcovAbi.CmpConst;

    /// <summary>Called by instrumented code at the start of every basic block (trace-pc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pc(ulong pc)
    {
        if (KcovTask.Tracing != 0)
            PcTraced(pc);
    }

    /// <summary>__sanitizer_cov_trace_pc(), in a process where some thread traces.</summary>
    private static void PcTraced(ulong pc)
    {
        var t = KcovTask.Current;
        if (t is null || t.Mode != KcovTask.ModeTracePc)
            return;
        ulong* area = t.Area;
        // Word 0 is the number of PCs that follow. The reader may reset it at any time.
        ulong pos = Volatile.Read(ref area[0]) + 1;
        if (pos < t.Size)
        {
            area[pos] = pc;
            // Publish after the entry: pairs with the reader's load of word 0.
            Volatile.Write(ref area[0], pos);
        }
    }

    /// <summary>Called by instrumented code before a comparison of two 1-byte values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Cmp1(byte arg1, byte arg2, ulong pc) => Comp(Size1, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison of two 2-byte values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Cmp2(ushort arg1, ushort arg2, ulong pc) => Comp(Size2, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison of two 4-byte values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Cmp4(uint arg1, uint arg2, ulong pc) => Comp(Size4, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison of two 8-byte values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Cmp8(ulong arg1, ulong arg2, ulong pc) => Comp(Size8, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison with a 1-byte constant; <paramref name="arg1"/> is the constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ConstCmp1(byte arg1, byte arg2, ulong pc) => Comp(Size1 | Const, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison with a 2-byte constant; <paramref name="arg1"/> is the constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ConstCmp2(ushort arg1, ushort arg2, ulong pc) => Comp(Size2 | Const, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison with a 4-byte constant; <paramref name="arg1"/> is the constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ConstCmp4(uint arg1, uint arg2, ulong pc) => Comp(Size4 | Const, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison with an 8-byte constant; <paramref name="arg1"/> is the constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ConstCmp8(ulong arg1, ulong arg2, ulong pc) => Comp(Size8 | Const, arg1, arg2, pc);

    /// <summary>
    /// Called by instrumented code before a <c>switch</c>. <paramref name="cases"/> has kcov's
    /// layout: the number of case values, their size in bits (8, 16, 32 or 64), then the values.
    /// One CONST record per case value (the case as arg1, <paramref name="val"/> as arg2).
    /// </summary>
    public static void Switch(ulong val, ulong[] cases, ulong pc)
    {
        if (KcovTask.Tracing == 0)
            return;
        var t = KcovTask.Current;
        if (t is null || t.Mode != KcovTask.ModeTraceCmp || cases is null || cases.Length < 2)
            return;
        ulong type = Const;
        switch (cases[1])
        {
            case 8: type |= Size1; break;
            case 16: type |= Size2; break;
            case 32: type |= Size4; break;
            case 64: type |= Size8; break;
            default: return;
        }
        // Never trust the count past the array: the trace path must not throw.
        ulong count = Math.Min(cases[0], (ulong)cases.Length - 2);
        for (ulong i = 0; i < count; i++)
            WriteComp(t, type, cases[i + 2], val, pc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Comp(ulong type, ulong arg1, ulong arg2, ulong pc)
    {
        if (KcovTask.Tracing != 0)
            CompTraced(type, arg1, arg2, pc);
    }

    /// <summary>__sanitizer_cov_trace_cmp*(), in a process where some thread traces.</summary>
    private static void CompTraced(ulong type, ulong arg1, ulong arg2, ulong pc)
    {
        var t = KcovTask.Current;
        if (t is not null && t.Mode == KcovTask.ModeTraceCmp)
            WriteComp(t, type, arg1, arg2, pc);
    }

    /// <summary>write_comp_data(): one 4-word record (type, arg1, arg2, pc) if it fits whole.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteComp(KcovTask t, ulong type, ulong arg1, ulong arg2, ulong pc)
    {
        ulong* area = t.Area;
        ulong count = Volatile.Read(ref area[0]);
        // Record number `count` occupies words 1+4*count .. 4+4*count, so it fits iff
        // count < (size-1)/4. Compared this way so a count the reader scribbled cannot overflow.
        if (count < t.CmpCapacity)
        {
            ulong* record = area + 1 + count * KcovAbi.WordsPerCmp;
            record[0] = type;
            record[1] = arg1;
            record[2] = arg2;
            record[3] = pc;
            // Publish after the record: pairs with the reader's load of word 0.
            Volatile.Write(ref area[0], count + 1);
        }
    }
}
