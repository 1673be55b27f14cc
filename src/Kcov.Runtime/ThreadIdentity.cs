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
/// <item>A dead thread's stack is handed to new threads (glibc caches stacks), so the range alone is
/// not proof. The proof of life is a robust pthread mutex that the thread locks once and never
/// unlocks. While its owner lives the mutex word holds the owner's thread id (the robust futex ABI);
/// when the owner exits the kernel replaces it with FUTEX_OWNER_DIED. The kernel does that before
/// it clears the thread's tid word, and glibc reuses a stack only once that word is clear, so no
/// thread can run on the dead thread's stack while the mutex word still holds its id.</item>
/// </list>
/// Where any of this is missing (not Linux, no robust mutexes, a libc whose mutex word is not where
/// we expect), a task has no identity and the trace path falls back to the thread-static lookup.
/// </summary>
internal static unsafe class ThreadIdentity
{
    private const int PthreadMutexRobust = 1;

    /// <summary>Where the futex word (the owner's tid) sits in the mutex: glibc's __lock is its first
    /// field, musl's _m_lock its second. A JIT-time constant for the trace path: this class has no
    /// static constructor of its own, so its statics are set before any code that reads them is compiled.</summary>
    public static readonly int FutexOffset = Symbol("gnu_get_libc_version") is not null ? 0 : sizeof(int);

    private static readonly delegate* unmanaged<nint> s_pthreadSelf = (delegate* unmanaged<nint>)Symbol("pthread_self");
    private static readonly delegate* unmanaged<nint, byte*, int> s_pthreadGetattrNp = (delegate* unmanaged<nint, byte*, int>)Symbol("pthread_getattr_np");
    private static readonly delegate* unmanaged<byte*, nint*, nuint*, int> s_pthreadAttrGetstack = (delegate* unmanaged<byte*, nint*, nuint*, int>)Symbol("pthread_attr_getstack");
    private static readonly delegate* unmanaged<byte*, int> s_pthreadAttrDestroy = (delegate* unmanaged<byte*, int>)Symbol("pthread_attr_destroy");
    private static readonly delegate* unmanaged<byte*, int> s_pthreadMutexattrInit = (delegate* unmanaged<byte*, int>)Symbol("pthread_mutexattr_init");
    private static readonly delegate* unmanaged<byte*, int, int> s_pthreadMutexattrSetrobust = (delegate* unmanaged<byte*, int, int>)Symbol("pthread_mutexattr_setrobust");
    private static readonly delegate* unmanaged<byte*, byte*, int> s_pthreadMutexInit = (delegate* unmanaged<byte*, byte*, int>)Symbol("pthread_mutex_init");
    private static readonly delegate* unmanaged<byte*, int> s_pthreadMutexLock = (delegate* unmanaged<byte*, int>)Symbol("pthread_mutex_lock");
    private static readonly delegate* unmanaged<int> s_gettid = (delegate* unmanaged<int>)Symbol("gettid");

    /// <summary>Whether this platform gives threads an identity at all.</summary>
    public static readonly bool Supported = s_pthreadSelf is not null && s_pthreadGetattrNp is not null && s_pthreadAttrGetstack is not null
        && s_pthreadAttrDestroy is not null && s_pthreadMutexattrInit is not null && s_pthreadMutexattrSetrobust is not null
        && s_pthreadMutexInit is not null && s_pthreadMutexLock is not null && s_gettid is not null;

    /// <summary>
    /// A libc function by name, from the process's global symbol scope: libc, and libpthread where
    /// glibc before 2.34 kept pthread_* apart (the runtime itself has loaded both). Null off Linux.
    /// </summary>
    private static void* Symbol(string name) =>
        OperatingSystem.IsLinux() && NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), name, out var address)
            ? (void*)address : null;

    /// <summary>
    /// Gives <paramref name="s"/> the identity of the calling thread, which must own it: its stack
    /// range and its locked robust mutex. Leaves the identity empty (StackSize 0) where the platform
    /// cannot provide it. Never throws.
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

            byte* mutexAttr = stackalloc byte[64];
            byte* mutex = s->Mutex;
            if (s_pthreadMutexattrInit(mutexAttr) != 0
                || s_pthreadMutexattrSetrobust(mutexAttr, PthreadMutexRobust) != 0
                || s_pthreadMutexInit(mutex, mutexAttr) != 0
                || s_pthreadMutexLock(mutex) != 0)
                return;
            int tid = s_gettid();
            // The check that makes the layout assumption safe: if the word is not our tid, this
            // libc keeps it elsewhere, and the task simply gets no identity.
            if (Volatile.Read(ref *(int*)(mutex + FutexOffset)) != tid)
                return;
            s->Tid = tid;
            s->StackLow = (nuint)low;
            s->StackSize = size;
        }
        catch (Exception)
        {
            // Not on the trace path, but on paths (the context-switch hook) that must not throw either.
        }
    }

    /// <summary>
    /// Whether the thread whose stack holds <paramref name="frame"/> (a local of the caller) is the
    /// one that owns <paramref name="s"/>, and lives. False for a block without identity. The trace
    /// path's replacement for a thread-static lookup: one subtraction and two comparisons against
    /// fields of <paramref name="s"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsCurrentThread(KcovState* s, ref byte frame) =>
        (nuint)Unsafe.AsPointer(ref frame) - s->StackLow < s->StackSize
        && *(int*)((byte*)s + FutexOffset) == s->Tid;

    /// <summary>Whether the thread that owns <paramref name="s"/> has exited (its identity's mutex says so).</summary>
    public static bool OwnerDied(KcovState* s) =>
        s->StackSize != 0 && Volatile.Read(ref *(int*)((byte*)s + FutexOffset)) != s->Tid;
}
