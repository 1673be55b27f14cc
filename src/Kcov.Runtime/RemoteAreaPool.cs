using System.Runtime.InteropServices;

namespace Kcov;

/// <summary>
/// kcov_remote_area_get / kcov_remote_area_put: the areas remote sections write, kept for
/// reuse by size (in words), most recently returned first. Areas are native memory and are
/// never freed, as in kcov: a process runs a bounded set of section sizes. The shared pool is
/// guarded by <see cref="RemoteMap.Lock"/>.
/// <para>
/// Every await inside a section ends a part on one thread and starts one on another (or the
/// same): two pool operations. So that sections on the thread pool do not all serialize on the
/// one process-wide lock, a thread-pool thread keeps the last area it returned as its spare and
/// takes it back first, without the lock; the shared pool is for the rest (and for a spare that
/// a newer area displaces). A pool thread that
/// ends hands its spare back (its finalizer). Other threads use the shared pool only: a thread
/// made for one job would keep its spare until its end.
/// </para>
/// </summary>
internal static unsafe class RemoteAreaPool
{
    private static readonly Dictionary<uint, Stack<nint>> s_free = [];

    /// <summary>This thread-pool thread's spare area, or null; only its thread touches it (and its finalizer, after).</summary>
    [ThreadStatic] private static Spare? t_spare;

    /// <summary>An area of <paramref name="words"/> words from the pool, or a new one; its count reset.</summary>
    /// <exception cref="OutOfMemoryException">A new area could not be allocated.</exception>
    internal static ulong* Get(uint words)
    {
        ulong* area = null;
        if (t_spare is { } spare && spare.Area is not null && spare.Words == words)
        {
            area = spare.Area;
            spare.Area = null;
        }
        else
        {
            lock (RemoteMap.Lock)
            {
                if (s_free.TryGetValue(words, out var stack) && stack.Count > 0)
                    area = (ulong*)stack.Pop();
            }
        }
        // A zero-word section still has its count word; nothing else ever fits.
        area = area is not null ? area : (ulong*)NativeMemory.Alloc(Math.Max(words, 1u), sizeof(ulong));
        // Reset coverage size.
        area[0] = 0;
        return area;
    }

    /// <summary>
    /// Returns an area to the pool: on a thread-pool thread it becomes the thread's spare (an older
    /// spare goes to the shared pool: the newest is the likeliest to be asked for next), elsewhere
    /// it goes to the shared pool.
    /// </summary>
    internal static void Put(ulong* area, uint words)
    {
        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            PutShared(area, words);
            return;
        }
        var spare = t_spare ??= new Spare();
        if (spare.Area is not null)
            PutShared(spare.Area, spare.Words);
        spare.Words = words;
        spare.Area = area;
    }

    private static void PutShared(ulong* area, uint words)
    {
        lock (RemoteMap.Lock)
        {
            if (!s_free.TryGetValue(words, out var stack))
                s_free[words] = stack = new Stack<nint>();
            stack.Push((nint)area);
        }
    }

    /// <summary>A thread-pool thread's spare area; referenced only by the thread, so it is finalized after the thread ends.</summary>
    private sealed class Spare
    {
        internal ulong* Area;
        internal uint Words;

        ~Spare()
        {
            if (Area is not null)
                PutShared(Area, Words);
        }
    }

    /// <summary>How many areas of <paramref name="words"/> words wait in the shared pool, for tests.</summary>
    internal static int Pooled(uint words)
    {
        lock (RemoteMap.Lock)
            return s_free.TryGetValue(words, out var stack) ? stack.Count : 0;
    }

    /// <summary>Whether <paramref name="area"/> is in the pool, for tests of reuse.</summary>
    internal static bool Contains(nint area, uint words)
    {
        lock (RemoteMap.Lock)
            return s_free.TryGetValue(words, out var stack) && stack.Contains(area);
    }
}
