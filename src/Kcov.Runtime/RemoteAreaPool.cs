using System.Runtime.InteropServices;

namespace Kcov;

/// <summary>
/// kcov_remote_area_get / kcov_remote_area_put: the areas remote sections write, kept for
/// reuse by size (in words), most recently returned first. Areas are native memory and are
/// never freed, as in kcov: a process runs a bounded set of section sizes. Guarded by
/// <see cref="RemoteMap.Lock"/>.
/// </summary>
internal static unsafe class RemoteAreaPool
{
    private static readonly Dictionary<uint, Stack<nint>> s_free = [];

    /// <summary>An area of <paramref name="words"/> words from the pool, or a new one; its count reset.</summary>
    /// <exception cref="OutOfMemoryException">A new area could not be allocated.</exception>
    internal static ulong* Get(uint words)
    {
        ulong* area = null;
        lock (RemoteMap.Lock)
        {
            if (s_free.TryGetValue(words, out var stack) && stack.Count > 0)
                area = (ulong*)stack.Pop();
        }
        // A zero-word section still has its count word; nothing else ever fits.
        area = area is not null ? area : (ulong*)NativeMemory.Alloc(Math.Max(words, 1u), sizeof(ulong));
        // Reset coverage size.
        area[0] = 0;
        return area;
    }

    /// <summary>Returns an area to the pool.</summary>
    internal static void Put(ulong* area, uint words)
    {
        lock (RemoteMap.Lock)
        {
            if (!s_free.TryGetValue(words, out var stack))
                s_free[words] = stack = new Stack<nint>();
            stack.Push((nint)area);
        }
    }

    /// <summary>How many areas of <paramref name="words"/> words wait in the pool, for tests.</summary>
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
