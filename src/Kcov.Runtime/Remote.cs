using System.Diagnostics;

namespace Kcov;

/// <summary>
/// kcov's remote coverage: kcov_remote_start / kcov_remote_stop / kcov_common_handle for
/// code that runs outside the thread that enabled the device (workers, the thread pool,
/// async flows). A device registers handles with KCOV_REMOTE_ENABLE; code annotated with
/// <see cref="Start"/>/<see cref="Stop"/> (or <see cref="Section"/>) under one of those
/// handles is then collected into that device's area.
/// <para>
/// Beyond kcov: a section follows its async flow. The section is carried by the
/// ExecutionContext, so it reaches every thread the flow continues on after an await and
/// every child task, timer and thread the flow starts. Each such thread writes a pooled area
/// of its own, and that area is appended to the device area (kcov_move_area, under the
/// device lock) when the flow leaves the thread, or when the section stops on it. The
/// trace path is unchanged: one thread-static read, a mode check, a bounds check, two stores.
/// </para>
/// <para>
/// The common handle (<see cref="CommonHandle"/>) is set on the flow that issues
/// KCOV_REMOTE_ENABLE and flows with the ExecutionContext too, which is .NET's form of
/// kcov_task_init inheriting it at fork. KCOV_DISABLE clears it on the calling flow.
/// Work queued with ExecutionContext flow suppressed (UnsafeQueueUserWorkItem,
/// ExecutionContext.SuppressFlow) inherits neither.
/// </para>
/// </summary>
public static unsafe class Remote
{
    /// <summary>How long <see cref="Stop"/> waits for parts of the section still running on other
    /// threads (a child finishing its last step) before it returns; parts that end later are dropped.</summary>
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(1);

    private static readonly AsyncLocal<RemoteSection?> s_section = new(OnSectionChanged);
    private static readonly AsyncLocal<ulong> s_commonHandle = new();

    /// <summary>kcov_common_handle(): the common handle of the calling flow, or 0.</summary>
    public static ulong CommonHandle => s_commonHandle.Value;

    /// <summary>
    /// Makes <paramref name="handle"/> the common handle of the calling flow (and of everything it
    /// starts), as if this flow had been forked from the task that issued KCOV_REMOTE_ENABLE with it.
    /// For a service that receives the handle of a client in another process, e.g. in a request
    /// header: work the request queues then finds the client's handle in <see cref="CommonHandle"/>.
    /// In an async method the change is undone when the method returns, as for any AsyncLocal.
    /// </summary>
    /// <param name="handle">A common handle (<c>KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, id)</c>), or 0 for none.</param>
    /// <exception cref="ArgumentException">The handle is not a common handle.</exception>
    public static void InheritCommonHandle(ulong handle)
    {
        if (!RemoteMap.CheckHandle(handle, commonValid: true, uncommonValid: false, zeroValid: true))
            throw new ArgumentException($"0x{handle:x16} is not a common handle: use KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, id), or 0 for none.", nameof(handle));
        SetCommonHandle(handle);
    }

    internal static void SetCommonHandle(ulong handle)
    {
        // Setting an AsyncLocal to the value it has would still copy the ExecutionContext.
        if (s_commonHandle.Value != handle)
            s_commonHandle.Value = handle;
    }

    /// <summary>
    /// Registers a subsystem (beyond kcov's common 0 and USB 1) so handles with
    /// <paramref name="id"/> in their top byte become valid global handles. Registering the
    /// same id with the same name again does nothing.
    /// </summary>
    /// <returns>The subsystem part of its handles, for <see cref="KcovAbi.RemoteHandle"/>.</returns>
    public static ulong RegisterSubsystem(byte id, string name)
    {
        if (id == 0)
            throw new ArgumentOutOfRangeException(nameof(id), "Subsystem 0 is kcov's common subsystem; pick an id from 2 to 255.");
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        RemoteMap.RegisterSubsystem(id, name);
        return (ulong)id << 56;
    }

    /// <summary>
    /// kcov_remote_start(): collect the calling flow's coverage for the device holding
    /// <paramref name="handle"/>, until <see cref="Stop"/>. An invalid handle, or a thread that
    /// already has a device or a section, is a warning (EventSource "Kcov") and does nothing;
    /// a handle no device holds does nothing.
    /// </summary>
    public static void Start(ulong handle) => TryStart(handle);

    /// <summary>
    /// <see cref="Start"/> as a scope: <c>using (Remote.Section(handle)) { ... }</c>. The scope
    /// stops only a section it started; the section may cross awaits inside the block.
    /// </summary>
    public static RemoteSectionScope Section(ulong handle) => new(TryStart(handle));

    private static bool TryStart(ulong handle)
    {
        if (!RemoteMap.CheckHandle(handle, commonValid: true, uncommonValid: true, zeroValid: true))
        {
            KcovEventSource.Log.Warning("kcov_remote_start", $"invalid handle 0x{handle:x16}: reserved bytes set or unknown subsystem");
            return false;
        }
        var t = KcovTask.GetOrCreateCurrent();
        // Not twice, and not on a thread that collects coverage with a device of its own.
        if (t.Kcov is not null || s_section.Value is { Stopped: false })
        {
            KcovEventSource.Log.Warning("kcov_remote_start", t.Section is not null || s_section.Value is not null
                ? "a remote section is already running on this flow; sections do not nest"
                : "the calling thread has a kcov device enabled; remote sections are for other threads");
            return false;
        }
        RemoteSection section;
        lock (RemoteMap.Lock)
        {
            var kcov = RemoteMap.Find(handle);
            if (kcov is null)
                return false;
            // Read the device before unlocking, to not race with KCOV_DISABLE / kcov_remote_reset.
            var (size, mode, sequence) = kcov.StartSectionLocked();
            section = new RemoteSection(kcov, size, mode, sequence);
        }
        // Starts the part on this thread (OnSectionChanged).
        s_section.Value = section;
        return true;
    }

    /// <summary>
    /// kcov_remote_stop(): ends the calling flow's section. This thread's part is appended to the
    /// device area now, and parts running on other threads are waited for (for at most a second).
    /// When Stop returns, the device area holds all of the section it will ever hold: no part starts
    /// after the section is marked stopped, and a part still running after the wait is dropped when
    /// it ends, never appended later (it would land in the next collection, e.g. the fuzzer's next
    /// input). Without a section, does nothing.
    /// </summary>
    public static void Stop()
    {
        var section = s_section.Value;
        if (section is null)
            return;
        // A full barrier before Drain reads ActiveParts: pairs with the one in Enter (see there).
        bool first = section.MarkStopped();
        // Leaves this thread: its part moves into the device area (OnSectionChanged).
        s_section.Value = null;
        if (!first)
            return; // another flow that shares the section stopped it, and put its reference
        Drain(section);
        section.Kcov.CloseSection(section);
        // The reference kcov_remote_start took.
        section.Kcov.Put();
    }

    /// <summary>Waits for the section's parts on other threads to leave, for at most the drain timeout.</summary>
    private static void Drain(RemoteSection section)
    {
        if (Volatile.Read(ref section.ActiveParts) == 0)
            return;
        var clock = Stopwatch.StartNew();
        var spin = new SpinWait();
        while (Volatile.Read(ref section.ActiveParts) > 0)
        {
            if (clock.Elapsed > s_drainTimeout)
            {
                KcovEventSource.Log.Warning("kcov_remote_stop",
                    $"{Volatile.Read(ref section.ActiveParts)} part(s) of the section still run on other threads after {s_drainTimeout.TotalSeconds} s; their coverage is dropped");
                return;
            }
            spin.SpinOnce();
        }
    }

    /// <summary>
    /// The context-switch hook: the ExecutionContext of this thread changed, so the section
    /// the thread runs changed. Leave the old one (append its part), enter the new one.
    /// It runs inside the runtime's context switch and must never throw.
    /// </summary>
    private static void OnSectionChanged(AsyncLocalValueChangedArgs<RemoteSection?> change)
    {
        try
        {
            if (change.PreviousValue is { } previous)
                Leave(previous);
            if (change.CurrentValue is { } current)
                Enter(current);
        }
        catch (Exception e)
        {
            KcovEventSource.Log.Warning("kcov_remote_switch", $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>kcov_remote_start()'s per-thread half: a pooled area and a reference for this thread's part.</summary>
    private static void Enter(RemoteSection section)
    {
        var t = KcovTask.GetOrCreateCurrent();
        // A thread with its own device keeps its own coverage; the flow is not covered here.
        if (t.Kcov is not null)
            return;
        // Counted before Stopped is checked, and Stop marks it stopped before it reads the count;
        // both are full barriers (Interlocked). So either this thread sees the section stopped and
        // starts nothing, or Stop sees this part and waits for it: a part cannot start unseen
        // after Stop's wait, which is the window kcov_remote_stop's callers must never be in.
        Interlocked.Increment(ref section.ActiveParts);
        if (section.Stopped || !section.Kcov.TryGet())
        {
            Interlocked.Decrement(ref section.ActiveParts);
            return;
        }
        RaceHooks.PartStarting?.Invoke(section);
        ulong* area;
        try
        {
            area = RemoteAreaPool.Get(section.Size);
        }
        catch (OutOfMemoryException)
        {
            section.Kcov.Put();
            Interlocked.Decrement(ref section.ActiveParts);
            KcovEventSource.Log.Warning("kcov_remote_start", $"no memory for a {section.Size}-word section area; this part is not covered");
            return;
        }
        t.Kcov = section.Kcov;
        t.Section = section;
        t.Start(section.Size, area, section.Mode, section.Sequence);
    }

    /// <summary>kcov_remote_stop()'s per-thread half, when the flow leaves this thread.</summary>
    private static void Leave(RemoteSection section)
    {
        var t = KcovTask.Current;
        if (t is not null && t.Section == section)
            EndPart(t);
    }

    /// <summary>
    /// Moves a thread's part of a section into the device area, returns its area to the pool and
    /// drops the part's reference. Called on the part's own thread, or for a thread that has ended.
    /// </summary>
    internal static void EndPart(KcovTask t)
    {
        var section = t.Section!;
        var kcov = t.Kcov!;
        ulong* area = t.Area;
        int sequence = t.Sequence;
        t.Reset();
        kcov.AppendRemote(section, area, sequence);
        RemoteAreaPool.Put(area, section.Size);
        Interlocked.Decrement(ref section.ActiveParts);
        kcov.Put();
    }
}
