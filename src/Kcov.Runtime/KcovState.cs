using System.Runtime.InteropServices;

namespace Kcov;

/// <summary>
/// What the trace path reads of one task: kcov's <c>struct kcov_state</c> (where the PCs go, the
/// unique-mode bitmap, where comparison records go) plus how the trace path recognizes the task's
/// thread without a thread-local lookup (<see cref="ThreadIdentity"/>). One block of native memory per
/// <see cref="KcovTask"/>, at a fixed address, written only by <see cref="KcovTask.Start"/> and
/// <see cref="KcovTask.Stop"/>, and by libc when the owning thread exits.
/// <para>
/// A mode that is off is not a flag but a size of 0: <see cref="TraceSize"/>, <see cref="CmpCapacity"/>
/// and <see cref="BitmapBits"/> are 0 and their pointers point at <see cref="Empty"/>, so the trace
/// path's bounds checks are also its mode checks and it never dereferences null. Trace-pc is unique
/// mode with a bitmap of 0 bits: every PC goes to the trace.
/// </para>
/// <para>
/// Blocks are never freed: a block that was ever <see cref="Tracers.Sole"/> can still be read by a
/// thread that loaded that pointer just before it changed, so its memory must stay valid, and libc
/// writes to its <see cref="StackSize"/> when the owning thread exits (<see cref="ThreadIdentity"/>).
/// A block costs 64 bytes (one cache line) per thread that ever used kcov.
/// </para>
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal unsafe struct KcovState
{
    /// <summary>The lowest address of the owning thread's stack (see <see cref="StackSize"/>).</summary>
    [FieldOffset(0)] public nuint StackLow;

    /// <summary>
    /// The size in bytes of the owning thread's stack from <see cref="StackLow"/>; 0 if the thread
    /// has no identity, and set to 0 by libc when the thread exits (<see cref="ThreadIdentity"/>).
    /// Always below 2^32, so libc's 32-bit store of 0 to its first (low, little-endian) half clears
    /// it whole, and the trace path compares against it in one instruction.
    /// </summary>
    [FieldOffset(8)] public nuint StackSize;

    /// <summary>Where PCs go: word 0 is the count (the area, or in unique mode the part after the bitmap).</summary>
    [FieldOffset(16)] public ulong* Trace;

    /// <summary>Words of <see cref="Trace"/>, count word included; 0 unless trace-pc or unique mode is on.</summary>
    [FieldOffset(24)] public ulong TraceSize;

    /// <summary>The unique-mode bitmap: bit i set means site bit i was already written since the last reset.</summary>
    [FieldOffset(32)] public ulong* Bitmap;

    /// <summary>Bits of <see cref="Bitmap"/>; 0 unless unique mode is on.</summary>
    [FieldOffset(40)] public ulong BitmapBits;

    /// <summary>Where comparison records go: word 0 is the record count.</summary>
    [FieldOffset(48)] public ulong* Cmp;

    /// <summary>Whole comparison records that fit in <see cref="Cmp"/>; 0 unless trace-cmp is on.</summary>
    [FieldOffset(56)] public ulong CmpCapacity;

    /// <summary>The word every switched-off pointer points at: never written, since its size is 0.</summary>
    public static readonly ulong* Empty = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));

    /// <summary>A new block with every mode off and no identity.</summary>
    public static KcovState* Allocate()
    {
        var s = (KcovState*)NativeMemory.AlignedAlloc((nuint)sizeof(KcovState), 64);
        *s = default;
        s->Trace = Empty;
        s->Bitmap = Empty;
        s->Cmp = Empty;
        return s;
    }
}
