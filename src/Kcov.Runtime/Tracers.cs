namespace Kcov;

/// <summary>
/// The tasks that have a trace mode on, and the one fact about them the trace path reads:
/// <see cref="Sole"/>. In the common case (a fuzzer's one thread, a sequential async flow) exactly
/// one task traces, and the trace path recognizes its thread by <see cref="ThreadIdentity"/>
/// instead of a thread-local lookup.
/// </summary>
internal static unsafe class Tracers
{
    /// <summary>
    /// What the trace path reads first: 0 when no task traces; the <see cref="KcovState"/> of the
    /// only task that traces, when that task has a thread identity; <see cref="Several"/> otherwise
    /// (more than one task, one without identity, or a thread asked to park:
    /// <see cref="KcovTask.RequestPark"/>), where the trace path looks its task up by the
    /// thread-static <see cref="KcovTask.Current"/>. Written under <see cref="s_lock"/> by
    /// <see cref="Add"/> and <see cref="Remove"/>, read with no lock.
    /// <para>
    /// Why a reader needs no lock: a task is added on its own thread before its mode goes on and
    /// removed after its mode goes off (<see cref="KcovTask.Start"/>, <see cref="KcovTask.Stop"/>).
    /// Between the two, every value any thread writes here is <see cref="Several"/> or that task's
    /// own state, because the set holds the task. The task's thread wrote one of those values
    /// itself when it was added, so by coherence it can read no older one: it never sees 0 or
    /// another task's state while it traces, and its blocks are recorded. Any other thread that
    /// reads another task's state fails the identity check and records nothing, which is right:
    /// only that task traced when that value was written, and a thread that starts tracing writes
    /// a new value before it traces.
    /// </para>
    /// </summary>
    internal static nint Sole;

    /// <summary>The value of <see cref="Sole"/> that sends the trace path to the thread-static lookup: no identity, no modes.</summary>
    internal static readonly KcovState* Several = KcovState.Allocate();

    /// <summary>Guards <see cref="s_tracing"/> and the writes to <see cref="Sole"/>.</summary>
    private static readonly object s_lock = new();
    private static readonly List<KcovTask> s_tracing = [];

    /// <summary>Adds a task whose mode is about to go on. Called on the task's own thread.</summary>
    internal static void Add(KcovTask task)
    {
        lock (s_lock)
        {
            s_tracing.Add(task);
            Publish();
        }
    }

    /// <summary>Removes a task whose mode went off.</summary>
    internal static void Remove(KcovTask task)
    {
        lock (s_lock)
        {
            s_tracing.Remove(task);
            Publish();
        }
    }

    /// <summary>Park requests not yet taken (<see cref="KcovTask.RequestPark"/>): while there are any, every block takes the slow path.</summary>
    private static int s_parking;

    internal static int PendingParks => Volatile.Read(ref s_parking);

    internal static void BeginPark()
    {
        lock (s_lock)
        {
            s_parking++;
            Publish();
        }
    }

    internal static void EndPark()
    {
        lock (s_lock)
        {
            s_parking--;
            Publish();
        }
    }

    /// <summary>Whether any task traces: what the cold entry points check before anything else.</summary>
    internal static bool Any => Volatile.Read(ref Sole) != 0;

    private static void Publish()
    {
        KcovState* sole = s_parking > 0 ? Several : s_tracing.Count switch
        {
            0 => null,
            1 when s_tracing[0].State->StackSize != 0 => s_tracing[0].State,
            _ => Several,
        };
        Volatile.Write(ref Sole, (nint)sole);
    }
}
