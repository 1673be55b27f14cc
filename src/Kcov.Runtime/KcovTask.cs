namespace Kcov;

/// <summary>
/// kcov's fields of task_struct, one object per thread that ever touched a device.
/// The trace path reads <see cref="Mode"/>, <see cref="Area"/>, <see cref="Size"/> and
/// <see cref="CmpCapacity"/> through the single thread-static <see cref="Current"/>; only the
/// owning thread writes them while it lives (kcov_start / kcov_stop run on it), so no barrier
/// is needed between writer and trace path, but they are written in kcov's order anyway so
/// that the mode is never on while the area is not yet set.
/// </summary>
internal sealed unsafe class KcovTask
{
    // kcov's enum kcov_mode.
    internal const int ModeDisabled = 0;
    internal const int ModeInit = 1;
    internal const int ModeTracePc = 2;
    internal const int ModeTraceCmp = 3;

    /// <summary>The calling thread's task, or null if it never used kcov. Read by the trace path.</summary>
    [ThreadStatic] internal static KcovTask? Current;

    /// <summary>
    /// How many tasks have a trace mode on. The trace path reads it first, so that instrumented
    /// code in a process where nothing traces pays one static load per block instead of a TLS
    /// lookup. A thread's own Start makes the count non-zero before its mode is on, and only
    /// its own Stop can take that back: a stale zero is never seen by a thread that traces.
    /// </summary>
    internal static int Tracing;

    /// <summary>Roots the thread-exit sentinel of this thread: see <see cref="ExitSentinel"/>.</summary>
    [ThreadStatic] private static ExitSentinel? t_sentinel;

    internal int Mode;
    internal ulong* Area;
    internal ulong Size;
    /// <summary>How many whole comparison records fit: (Size-1)/4, or 0 for an area without room.</summary>
    internal ulong CmpCapacity;

    /// <summary>The device this thread is wired to (kcov_enable or a remote section), or null. Guarded by that device's lock.</summary>
    internal KcovDevice? Kcov;

    /// <summary>The device's sequence when coverage started on this thread (see kcov_remote_stop).</summary>
    internal int Sequence;

    /// <summary>The remote section this thread runs a part of, or null (bound by KCOV_ENABLE, or free).</summary>
    internal RemoteSection? Section;

    /// <summary>The thread this task belongs to; a dead one is reaped as kcov_task_exit would have.</summary>
    internal readonly Thread Thread;

    private KcovTask(Thread thread) => Thread = thread;

    /// <summary>The calling thread's task, created (with its exit sentinel) on first use.</summary>
    internal static KcovTask GetOrCreateCurrent()
    {
        var task = Current;
        if (task is null)
        {
            task = new KcovTask(Thread.CurrentThread);
            t_sentinel = new ExitSentinel(task);
            Current = task;
        }
        return task;
    }

    /// <summary>kcov_start(), on the owning thread: cache the area in the task; the mode goes last.</summary>
    internal void Start(ulong size, ulong* area, int mode, int sequence)
    {
        if (Mode == ModeDisabled)
            Interlocked.Increment(ref Tracing);
        Size = size;
        CmpCapacity = size > 0 ? (size - 1) / KcovAbi.WordsPerCmp : 0;
        Area = area;
        Volatile.Write(ref Mode, mode);
        Sequence = sequence;
    }

    /// <summary>
    /// kcov_stop(): the mode goes first, so the trace path stops before the area goes. Runs on
    /// the owning thread, or on another one once the owner has ended (reaping, exit sentinel).
    /// </summary>
    internal void Stop()
    {
        if (Mode == ModeDisabled)
            return;
        Volatile.Write(ref Mode, ModeDisabled);
        Interlocked.Decrement(ref Tracing);
        Size = 0;
        CmpCapacity = 0;
        Area = null;
    }

    /// <summary>kcov_task_reset(). The common handle lives in the ExecutionContext, not here.</summary>
    internal void Reset()
    {
        Stop();
        Kcov = null;
        Sequence = 0;
        Section = null;
    }

    /// <summary>
    /// kcov_task_exit() for .NET threads. .NET has no thread-exit callback, so two
    /// mechanisms together stand in for it:
    /// <list type="bullet">
    /// <item>Reaping: every device operation first checks whether the thread bound to the
    /// device has ended (<see cref="Thread.IsAlive"/>) and, if so, does what kcov_task_exit
    /// does. This is deterministic: once <c>Join</c> returns, the next ioctl sees it.</item>
    /// <item>This sentinel: it is referenced only from a [ThreadStatic] of its thread, so it
    /// becomes unreachable when the thread ends; its finalizer then runs kcov_task_exit, which
    /// releases the reference the binding held even if nobody touches the device again.</item>
    /// </list>
    /// Both paths go through <see cref="KcovDevice.TaskExit"/>, which does nothing the second time.
    /// A thread that ends inside a part of a remote section normally hands its part over when
    /// its ExecutionContext is restored; a thread started without one gets no such notification,
    /// so the sentinel delivers the part (the dead thread can no longer write its area).
    /// </summary>
    private sealed class ExitSentinel(KcovTask task)
    {
        ~ExitSentinel()
        {
            if (task.Section is not null)
                Remote.EndPart(task);
            else
                task.Kcov?.TaskExit(task);
        }
    }
}
