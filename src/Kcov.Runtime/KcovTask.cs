using System.Runtime.CompilerServices;

namespace Kcov;

/// <summary>
/// kcov's fields of task_struct, one object per thread that ever touched a device. The trace path
/// reads the task through its <see cref="State"/> block, found either through
/// <see cref="Tracers.Sole"/> and the thread's identity, or through the thread-static
/// <see cref="Current"/>. Only the owning thread writes the block's mode fields while it lives
/// (kcov_start / kcov_stop run on it), in kcov's order, so that no mode is ever on while its area
/// is not yet set.
/// </summary>
internal sealed unsafe class KcovTask
{
    // kcov's enum kcov_mode.
    internal const int ModeDisabled = 0;
    internal const int ModeInit = 1;
    internal const int ModeTracePc = 2;
    internal const int ModeTraceCmp = 3;
    internal const int ModeUniquePc = 5;

    /// <summary>The calling thread's task, or null if it never used kcov. Read by the trace path when several tasks trace.</summary>
    [ThreadStatic] internal static KcovTask? Current;

    /// <summary>Roots the thread-exit sentinel of this thread: see <see cref="ExitSentinel"/>.</summary>
    [ThreadStatic] private static ExitSentinel? t_sentinel;

    internal int Mode;
    internal ulong* Area;
    internal ulong Size;

    /// <summary>What the trace path reads: this task's modes, areas and thread identity. Never freed (see <see cref="KcovState"/>).</summary>
    internal readonly KcovState* State = KcovState.Allocate();

    /// <summary>The device this thread is wired to (kcov_enable or a remote section), or null. Guarded by that device's lock.</summary>
    internal KcovDevice? Kcov;

    /// <summary>The device's sequence when coverage started on this thread (see kcov_remote_stop).</summary>
    internal int Sequence;

    /// <summary>The remote section this thread runs a part of, or null (bound by KCOV_ENABLE, or free).</summary>
    internal RemoteSection? Section;

    /// <summary>The thread this task belongs to; a dead one is reaped as kcov_task_exit would have.</summary>
    internal readonly Thread Thread;

    private KcovTask(Thread thread) => Thread = thread;

    /// <summary>What to run on this thread at its next traced block, if it is to be parked (<see cref="RequestPark"/>).</summary>
    private Func<bool>? _park;

    /// <summary>
    /// Asks this task's thread to stop at the next block or comparison of instrumented code it runs,
    /// without ending the process: there it runs <paramref name="atPark"/> and, if that returns true,
    /// blocks forever. What a fuzzer does with an input caught in an endless loop of instrumented code,
    /// where restarting the process would cost seconds and .NET cannot abort a thread. Until the thread
    /// gets there, every traced block of the process takes the slow path (<see cref="Tracers.Sole"/> is
    /// <see cref="Tracers.Several"/>), so the request is seen whatever the thread's identity. A thread
    /// stuck outside instrumented code never gets there: the caller must give up after a while
    /// (<see cref="CancelPark"/>) and end the process as before. A request replaces one not yet taken.
    /// <para>
    /// This is the one place where the trace path blocks, on purpose and only when asked; a thread
    /// parked while holding a lock of the program keeps it (a later input waiting on it is a hang
    /// outside instrumented code, which the caller handles by ending the process).
    /// </para>
    /// </summary>
    /// <param name="atPark">Runs on the parked thread (it may disable its device there, as its owner); false lets the thread go on.</param>
    internal void RequestPark(Func<bool> atPark)
    {
        if (Interlocked.Exchange(ref _park, atPark) is null)
            Tracers.BeginPark();
    }

    /// <summary>Withdraws a request the thread has not reached; false if it already took it.</summary>
    internal bool CancelPark()
    {
        if (Interlocked.Exchange(ref _park, null) is null)
            return false;
        Tracers.EndPark();
        return true;
    }

    /// <summary>
    /// The calling thread's task, for the trace path's lookup when <see cref="Tracers.Sole"/> is
    /// <see cref="Tracers.Several"/>; a thread asked to park stops here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static KcovTask? CurrentForTracePath()
    {
        var t = Current;
        if (t is not null && t._park is not null)
            t.Park();
        return t;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Park()
    {
        var atPark = Interlocked.Exchange(ref _park, null);
        if (atPark is null)
            return;
        bool park;
        try
        {
            park = atPark();
        }
        catch (Exception)
        {
            // The trace path never throws: an action that failed parks nothing.
            park = false;
        }
        Tracers.EndPark();
        if (!park)
            return;
        while (true)
            Thread.Sleep(Timeout.Infinite);
    }

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

    /// <summary>
    /// kcov_start(), on the owning thread: cache the area in the task; the mode goes last. In
    /// unique mode the first <paramref name="bitmapWords"/> words of the area are the bitmap and
    /// the rest is the trace (KCOV_UNIQUE_ENABLE).
    /// </summary>
    internal void Start(ulong size, ulong* area, int mode, int sequence, ulong bitmapWords = 0)
    {
        if (Mode == ModeDisabled)
        {
            ThreadIdentity.Assign(State);
            // Before the mode goes on: see Tracers.Sole.
            Tracers.Add(this);
        }
        Size = size;
        Area = area;
        Volatile.Write(ref Mode, mode);
        Sequence = sequence;
        var s = State;
        switch (mode)
        {
            case ModeTracePc:
                s->Trace = area;
                s->TraceSize = size;
                break;
            case ModeUniquePc:
                s->Bitmap = area;
                s->Trace = area + bitmapWords;
                s->TraceSize = size - bitmapWords;
                // Last: the bitmap is off until the trace is ready.
                s->BitmapBits = bitmapWords * 64;
                break;
            case ModeTraceCmp:
                s->Cmp = area;
                s->CmpCapacity = size > 0 ? (size - 1) / KcovAbi.WordsPerCmp : 0;
                break;
        }
    }

    /// <summary>
    /// kcov_stop(): the mode goes first, so the trace path stops before the area goes. Runs on
    /// the owning thread, or on another one once the owner has ended (reaping, exit sentinel).
    /// </summary>
    internal void Stop()
    {
        if (Mode == ModeDisabled)
            return;
        var s = State;
        s->TraceSize = 0;
        s->BitmapBits = 0;
        s->CmpCapacity = 0;
        s->Trace = KcovState.Empty;
        s->Bitmap = KcovState.Empty;
        s->Cmp = KcovState.Empty;
        Volatile.Write(ref Mode, ModeDisabled);
        // After the mode went off: see Tracers.Sole.
        Tracers.Remove(this);
        Size = 0;
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
