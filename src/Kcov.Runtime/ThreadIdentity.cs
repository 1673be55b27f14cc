using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kcov;

/// <summary>
/// How the trace path tells the thread of a task from every other thread without a thread-local
/// lookup. In .NET on Linux a <c>[ThreadStatic]</c> read calls glibc's <c>__tls_get_addr</c>, which
/// dominated the cost of a traced block (8-10 ns on Markdig); kcov's <c>current</c> is one
/// segment-relative load, which managed code cannot express. Two facts stand in for it:
/// <list type="number">
/// <item>The stacks of live threads never overlap, so a thread whose stack pointer lies in a task's
/// stack range is that task's thread, if that thread still lives. The address of a local is the
/// stack pointer, for free.</item>
/// <item>A dead thread's stack is handed to new threads (glibc caches stacks), so the range must die
/// with its thread. It does: the owning thread registers its <see cref="KcovState.StackSize"/> as
/// its value of a pthread key whose destructor is libc's own <c>pthread_mutexattr_init</c>, which
/// stores a 32-bit 0 there (a <c>pthread_mutexattr_t</c> is one 32-bit word in glibc and musl).
/// POSIX runs a thread's key destructors as the thread exits, before it has terminated; glibc's
/// start_thread runs them before it frees the stack (a detached thread, under the stack cache's
/// lock) or before the kernel clears the thread id that a joiner waits for, so the store comes
/// before any hand-over of the stack, and no thread can run on it while the range is not empty.</item>
/// </list>
/// The trace path thus checks one range, with no per-block liveness load. Where any of this is
/// missing (not Linux, no pthread keys, a libc whose <c>pthread_mutexattr_init</c> does not clear
/// exactly the 32-bit word, checked once per process), a task has no identity and the trace path
/// falls back to the thread-static lookup.
/// </summary>
internal static unsafe class ThreadIdentity
{
    private static readonly delegate* unmanaged<nint> s_pthreadSelf = (delegate* unmanaged<nint>)Symbol("pthread_self");
    private static readonly delegate* unmanaged<nint, byte*, int> s_pthreadGetattrNp = (delegate* unmanaged<nint, byte*, int>)Symbol("pthread_getattr_np");
    private static readonly delegate* unmanaged<byte*, nint*, nuint*, int> s_pthreadAttrGetstack = (delegate* unmanaged<byte*, nint*, nuint*, int>)Symbol("pthread_attr_getstack");
    private static readonly delegate* unmanaged<byte*, int> s_pthreadAttrDestroy = (delegate* unmanaged<byte*, int>)Symbol("pthread_attr_destroy");
    private static readonly delegate* unmanaged<uint*, void*, int> s_pthreadKeyCreate = (delegate* unmanaged<uint*, void*, int>)Symbol("pthread_key_create");
    private static readonly delegate* unmanaged<uint, void*, int> s_pthreadSetspecific = (delegate* unmanaged<uint, void*, int>)Symbol("pthread_setspecific");
    private static readonly delegate* unmanaged<void*, int> s_pthreadMutexattrInit = (delegate* unmanaged<void*, int>)Symbol("pthread_mutexattr_init");

    /// <summary>The pthread key whose destructor clears a dead thread's stack size; -1 if there is none.</summary>
    private static readonly long s_exitKey = CreateExitKey();

    /// <summary>Whether this platform gives threads an identity at all.</summary>
    public static readonly bool Supported = s_pthreadSelf is not null && s_pthreadGetattrNp is not null && s_pthreadAttrGetstack is not null
        && s_pthreadAttrDestroy is not null && s_pthreadSetspecific is not null && s_exitKey >= 0;

    /// <summary>
    /// A libc function by name, from the process's global symbol scope: libc, and libpthread where
    /// glibc before 2.34 kept pthread_* apart (the runtime itself has loaded both). Null off Linux.
    /// </summary>
    private static void* Symbol(string name) =>
        OperatingSystem.IsLinux() && NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), name, out var address)
            ? (void*)address : null;

    /// <summary>
    /// One key per process (keys are few: at least 128). Its destructor is pthread_mutexattr_init,
    /// used only for what it does to a word: store a 32-bit 0 and nothing else (glibc's and musl's
    /// do exactly that; glibc's pthread_spin_unlock would not do, it stores 1 on x86-64). Checked
    /// here on words of our own, so a libc that did anything else would leave every thread without
    /// identity; so would a big-endian machine, where the 32-bit word at a 64-bit value's address is
    /// not its low half (<see cref="KcovState.StackSize"/>).
    /// </summary>
    private static long CreateExitKey()
    {
        if (s_pthreadKeyCreate is null || s_pthreadMutexattrInit is null)
            return -1;
        ulong* probe = stackalloc ulong[2] { ulong.MaxValue, ulong.MaxValue };
        if (s_pthreadMutexattrInit(probe) != 0 || probe[0] != 0xFFFF_FFFF_0000_0000 || probe[1] != ulong.MaxValue)
            return -1;
        uint key;
        return s_pthreadKeyCreate(&key, s_pthreadMutexattrInit) == 0 ? key : -1;
    }

    /// <summary>
    /// Gives <paramref name="s"/> the identity of the calling thread, which must own it: its stack
    /// range, registered to be cleared when the thread exits. Leaves the identity empty
    /// (StackSize 0) where the platform cannot provide it. Never throws.
    /// </summary>
    public static void Assign(KcovState* s)
    {
        if (!Supported || s->StackSize != 0)
            return;
        try
        {
            nint low;
            nuint size;
            byte* attr = stackalloc byte[256];
            if (s_pthreadGetattrNp(s_pthreadSelf(), attr) != 0)
                return;
            int got = s_pthreadAttrGetstack(attr, &low, &size);
            s_pthreadAttrDestroy(attr);
            if (got != 0 || low == 0 || size == 0)
                return;
            // A stack of 4 GiB or more (a main thread under an unlimited stack rlimit): keep its top
            // 4 GiB, where the thread's frames are; a frame below is only not recognized.
            if (size > uint.MaxValue)
            {
                low += (nint)(size - uint.MaxValue);
                size = uint.MaxValue;
            }
            s->StackLow = (nuint)low;
            s->StackSize = size;
            if (s_pthreadSetspecific((uint)s_exitKey, &s->StackSize) != 0)
                s->StackSize = 0;
        }
        catch (Exception)
        {
            // Not on the trace path, but on paths (the context-switch hook) that must not throw either.
        }
    }

    /// <summary>
    /// Whether the thread whose stack holds <paramref name="frame"/> (a local of the caller) is the
    /// one that owns <paramref name="s"/>, and lives. False for a block without identity. The trace
    /// path's replacement for a thread-static lookup: one subtraction and one comparison against
    /// fields of <paramref name="s"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsCurrentThread(KcovState* s, ref byte frame) =>
        (nuint)Unsafe.AsPointer(ref frame) - s->StackLow < s->StackSize;
}
