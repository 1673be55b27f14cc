using System.Runtime.CompilerServices;

namespace Kcov;

/// <summary>
/// The entry points instrumented code calls: kcov's __sanitizer_cov_trace_* for .NET. They never
/// allocate, lock or throw: a thread that does not trace records nothing, and a full area drops the
/// record and leaves the count in bounds.
/// <para>
/// How a block finds its thread's task (see <see cref="Tracers.Sole"/>): when no task traces, one
/// static load and a branch, inlined into the instrumented method. When some task traces, an
/// ordinary call, which the JIT inlines where its profile says blocks run traced. When exactly
/// one task traces, its <see cref="KcovState"/> is <see cref="Tracers.Sole"/> and the calling
/// thread is recognized by <see cref="ThreadIdentity"/>, from the address of a local of the
/// instrumented method (its frame), with no thread-local lookup; then the bitmap check (unique
/// mode), the bounds check, the store and the count. Only when several tasks trace at once does a
/// block read the thread-static <see cref="KcovTask.Current"/>. docs/trace-path.md shows the
/// machine code the JIT makes of a probe, and the designs measured against this one.
/// </para>
/// </summary>
public static unsafe class Trace
{
    private const ulong Size1 = 0 << 1, Size2 = 1 << 1, Size4 = 2 << 1, Size8 = 3 << 1;
    private const ulong Const = KcovAbi.CmpConst;

    /// <summary>The unique-mode bit of a PC that has none: never deduplicated (kcov writes PCs past its bitmap to the trace).</summary>
    private const uint NoBit = uint.MaxValue;

    private static long s_siteBits;

    /// <summary>
    /// Called once by each instrumented module (its type initializer): reserves
    /// <paramref name="sites"/> bits of the unique-mode bitmap for the module's sites and returns
    /// the first. Bits are handed out in the order modules load and stay the module's for the life
    /// of the process, as kcov's guard indices stay a PC's for the life of the kernel.
    /// </summary>
    public static uint RegisterModule(uint sites)
    {
        long end = Interlocked.Add(ref s_siteBits, sites);
        // Past 2^32 sites in one process (no program has that many), modules share the top bits.
        return end <= uint.MaxValue ? (uint)(end - sites) : uint.MaxValue - sites;
    }

    /// <summary>The unique-mode bitmap bits reserved so far by instrumented modules: a bitmap of this many bits deduplicates every site.</summary>
    public static long SiteBits => Volatile.Read(ref s_siteBits);

    /// <summary>Called by instrumented code at the start of every basic block (trace-pc and unique mode), through its module's probe.</summary>
    /// <param name="frame">A local of the instrumented method: where it lies tells which thread runs (<see cref="ThreadIdentity"/>).</param>
    /// <param name="pc">The block's PC.</param>
    /// <param name="bit">The block's bit in the unique-mode bitmap (<see cref="RegisterModule"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pc(ref byte frame, ulong pc, uint bit)
    {
        nint s = Volatile.Read(ref Tracers.Sole);
        if (s != 0)
            PcTracing(ref frame, (KcovState*)s, pc, bit);
    }

    /// <summary>A block with a PC of the caller's choosing, never deduplicated in unique mode (hand-written probes, tests).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pc(ulong pc)
    {
        byte frame = 0;
        Pc(ref frame, pc, NoBit);
    }

    /// <summary>
    /// A block while some task traces. Not forced inline: where the JIT's profile says blocks run
    /// traced it may inline this, and where they run untraced it stays a call in a cold block, so
    /// untraced code keeps its inlining budget for its own methods (forcing it cost untraced Markdig
    /// 20%, and traced Markdig nothing measurable). Nor forbidden: with NoInlining, traced methods
    /// stay small but traced Markdig ran no faster and unique mode 16-21% slower (docs/trace-path.md).
    /// </summary>
    private static void PcTracing(ref byte frame, KcovState* s, ulong pc, uint bit)
    {
        if (ThreadIdentity.IsCurrentThread(s, ref frame))
            WritePc(s, pc, bit);
        else if (s == Tracers.Several && KcovTask.CurrentForTracePath() is { } t)
            WritePc(t.State, pc, bit);
    }

    /// <summary>__sanitizer_cov_trace_pc() and, in unique mode, __sanitizer_cov_trace_pc_guard()'s bitmap test.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WritePc(KcovState* s, ulong pc, uint bit)
    {
        // Trace-pc has a bitmap of 0 bits. A bit past the bitmap is written every time, as in kcov.
        if (bit < s->BitmapBits)
        {
            if (BitConverter.IsLittleEndian)
            {
                // Bit i of the words is bit i % 8 of byte i / 8: one test of a byte against a
                // constant where the JIT knows the bit (every probe), instead of a word and a mask.
                byte* b = (byte*)s->Bitmap + (bit >> 3);
                int mask = 1 << (int)(bit & 7);
                if ((*b & mask) != 0)
                    return;
                *b = (byte)(*b | mask);
            }
            else
            {
                ulong* word = s->Bitmap + (bit >> 6);
                ulong mask = 1UL << (int)(bit & 63);
                ulong seen = *word;
                if ((seen & mask) != 0)
                    return;
                *word = seen | mask;
            }
        }
        ulong* trace = s->Trace;
        // Word 0 is the number of PCs that follow. The reader may reset it at any time.
        ulong pos = Volatile.Read(ref trace[0]) + 1;
        if (pos < s->TraceSize)
        {
            trace[pos] = pc;
            // Publish after the entry: pairs with the reader's load of word 0.
            Volatile.Write(ref trace[0], pos);
        }
    }

    /// <summary>Called by hand-written code before a comparison of two 1-byte values.</summary>
    public static void Cmp1(byte arg1, byte arg2, ulong pc) => Comp(Size1, arg1, arg2, pc);

    /// <summary>Called by hand-written code before a comparison of two 2-byte values.</summary>
    public static void Cmp2(ushort arg1, ushort arg2, ulong pc) => Comp(Size2, arg1, arg2, pc);

    /// <summary>Called by hand-written code before a comparison of two 4-byte values.</summary>
    public static void Cmp4(uint arg1, uint arg2, ulong pc) => Comp(Size4, arg1, arg2, pc);

    /// <summary>Called by hand-written code before a comparison of two 8-byte values.</summary>
    public static void Cmp8(ulong arg1, ulong arg2, ulong pc) => Comp(Size8, arg1, arg2, pc);

    /// <summary>Called by hand-written code before a comparison with a 1-byte constant; <paramref name="arg1"/> is the constant.</summary>
    public static void ConstCmp1(byte arg1, byte arg2, ulong pc) => Comp(Size1 | Const, arg1, arg2, pc);

    /// <summary>Called by hand-written code before a comparison with a 2-byte constant; <paramref name="arg1"/> is the constant.</summary>
    public static void ConstCmp2(ushort arg1, ushort arg2, ulong pc) => Comp(Size2 | Const, arg1, arg2, pc);

    /// <summary>Called by hand-written code before a comparison with a 4-byte constant; <paramref name="arg1"/> is the constant.</summary>
    public static void ConstCmp4(uint arg1, uint arg2, ulong pc) => Comp(Size4 | Const, arg1, arg2, pc);

    /// <summary>Called by hand-written code before a comparison with an 8-byte constant; <paramref name="arg1"/> is the constant.</summary>
    public static void ConstCmp8(ulong arg1, ulong arg2, ulong pc) => Comp(Size8 | Const, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison of two 1-byte values, with its frame local (see <see cref="Pc(ref byte, ulong, uint)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Cmp1(ref byte frame, byte arg1, byte arg2, ulong pc) => Comp(ref frame, Size1, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison of two 2-byte values, with its frame local.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Cmp2(ref byte frame, ushort arg1, ushort arg2, ulong pc) => Comp(ref frame, Size2, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison of two 4-byte values, with its frame local.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Cmp4(ref byte frame, uint arg1, uint arg2, ulong pc) => Comp(ref frame, Size4, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison of two 8-byte values, with its frame local.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Cmp8(ref byte frame, ulong arg1, ulong arg2, ulong pc) => Comp(ref frame, Size8, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison with a 1-byte constant (<paramref name="arg1"/>), with its frame local.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ConstCmp1(ref byte frame, byte arg1, byte arg2, ulong pc) => Comp(ref frame, Size1 | Const, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison with a 2-byte constant (<paramref name="arg1"/>), with its frame local.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ConstCmp2(ref byte frame, ushort arg1, ushort arg2, ulong pc) => Comp(ref frame, Size2 | Const, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison with a 4-byte constant (<paramref name="arg1"/>), with its frame local.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ConstCmp4(ref byte frame, uint arg1, uint arg2, ulong pc) => Comp(ref frame, Size4 | Const, arg1, arg2, pc);

    /// <summary>Called by instrumented code before a comparison with an 8-byte constant (<paramref name="arg1"/>), with its frame local.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ConstCmp8(ref byte frame, ulong arg1, ulong arg2, ulong pc) => Comp(ref frame, Size8 | Const, arg1, arg2, pc);

    /// <summary>
    /// Called by instrumented code before a <c>switch</c>. <paramref name="cases"/> has kcov's
    /// layout: the number of case values, their size in bits (8, 16, 32 or 64), then the values.
    /// One CONST record per case value (the case as arg1, <paramref name="val"/> as arg2).
    /// </summary>
    public static void Switch(ulong val, ulong[] cases, ulong pc)
    {
        var s = CurrentState();
        if (s == null || s->CmpCapacity == 0 || cases is null || cases.Length < 2)
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
            WriteComp(s, type, cases[i + 2], val, pc);
    }

    /// <summary>A comparison from hand-written code.</summary>
    private static void Comp(ulong type, ulong arg1, ulong arg2, ulong pc)
    {
        byte frame = 0;
        Comp(ref frame, type, arg1, arg2, pc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Comp(ref byte frame, ulong type, ulong arg1, ulong arg2, ulong pc)
    {
        nint s = Volatile.Read(ref Tracers.Sole);
        if (s != 0)
            CompTracing(ref frame, (KcovState*)s, type, arg1, arg2, pc);
    }

    /// <summary>A comparison while some task traces; see <see cref="PcTracing"/>.</summary>
    private static void CompTracing(ref byte frame, KcovState* s, ulong type, ulong arg1, ulong arg2, ulong pc)
    {
        if (ThreadIdentity.IsCurrentThread(s, ref frame))
            WriteComp(s, type, arg1, arg2, pc);
        else if (s == Tracers.Several && KcovTask.CurrentForTracePath() is { } t)
            WriteComp(t.State, type, arg1, arg2, pc);
    }

    /// <summary>The calling thread's state if some task traces and it may be this thread's, else null.</summary>
    private static KcovState* CurrentState()
    {
        var s = (KcovState*)Volatile.Read(ref Tracers.Sole);
        if (s == null)
            return null;
        byte frame = 0;
        if (ThreadIdentity.IsCurrentThread(s, ref frame))
            return s;
        return s == Tracers.Several && KcovTask.CurrentForTracePath() is { } t ? t.State : null;
    }

    /// <summary>write_comp_data(): one 4-word record (type, arg1, arg2, pc) if it fits whole.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteComp(KcovState* s, ulong type, ulong arg1, ulong arg2, ulong pc)
    {
        ulong* area = s->Cmp;
        ulong count = Volatile.Read(ref area[0]);
        // Record number `count` occupies words 1+4*count .. 4+4*count, so it fits iff
        // count < (size-1)/4. Compared this way so a count the reader scribbled cannot overflow.
        if (count < s->CmpCapacity)
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
