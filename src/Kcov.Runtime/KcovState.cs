using System.Runtime.InteropServices;

namespace Kcov;

/// <summary>
/// What the trace path reads of one task: kcov's <c>struct kcov_state</c> (where the PCs go, the
/// unique-mode bitmap, where comparison records go) plus how the trace path recognizes the task's
/// thread without a thread-local lookup (<see cref="ThreadIdentity"/>). One block of native memory per
/// <see cref="KcovTask"/>, at a fixed address, written only by <see cref="KcovTask.Start"/> and
/// <see cref="KcovTask.Stop"/>.
/// <para>
/// A mode that is off is not a flag but a size of 0: <see cref="TraceSize"/>, <see cref="CmpCapacity"/>
/// and <see cref="BitmapBits"/> are 0 and their pointers point at <see cref="Empty"/>, so the trace
/// path's bounds checks are also its mode checks and it never dereferences null. Trace-pc is unique
/// mode with a bitmap of 0 bits: every PC goes to the trace.
/// </para>
/// <para>
/// Blocks are never freed: a block that was ever <see cref="Tracers.Sole"/> can still be read by a
/// thread that loaded that pointer just before it changed, so its memory must stay valid, and the
/// kernel may write to its mutex until the owning thread has fully exited. A block costs 128 bytes
/// per thread that ever used kcov.
/// </para>
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal unsafe struct KcovState
{
    /// <summary>The robust mutex of <see cref="ThreadIdentity"/>: locked by the owning thread, never unlocked.</summary>
    [FieldOffset(0)] public fixed byte Mutex[MutexBytes];

    /// <summary>The lowest address of the owning thread's stack, or 0 if the thread has no identity.</summary>
    [FieldOffset(48)] public nuint StackLow;

    /// <summary>The size of the owning thread's stack in bytes; 0 if the thread has no identity.</summary>
    [FieldOffset(56)] public nuint StackSize;

    /// <summary>The owning thread's id, as the mutex word holds it while the thread lives.</summary>
    [FieldOffset(64)] public int Tid;

    /// <summary>Where PCs go: word 0 is the count (the area, or in unique mode the part after the bitmap).</summary>
    [FieldOffset(72)] public ulong* Trace;

    /// <summary>Words of <see cref="Trace"/>, count word included; 0 unless trace-pc or unique mode is on.</summary>
    [FieldOffset(80)] public ulong TraceSize;

    /// <summary>The unique-mode bitmap: bit i set means site bit i was already written since the last reset.</summary>
    [FieldOffset(88)] public ulong* Bitmap;

    /// <summary>Bits of <see cref="Bitmap"/>; 0 unless unique mode is on.</summary>
    [FieldOffset(96)] public ulong BitmapBits;

    /// <summary>Where comparison records go: word 0 is the record count.</summary>
    [FieldOffset(104)] public ulong* Cmp;

    /// <summary>Whole comparison records that fit in <see cref="Cmp"/>; 0 unless trace-cmp is on.</summary>
    [FieldOffset(112)] public ulong CmpCapacity;

    /// <summary>Room for a pthread_mutex_t (40 bytes on x86-64 glibc and musl, 48 on arm64 glibc).</summary>
    public const int MutexBytes = 48;

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
