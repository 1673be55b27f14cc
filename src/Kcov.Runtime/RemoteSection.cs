namespace Kcov;

/// <summary>
/// One kcov_remote_start()..kcov_remote_stop() span of an execution flow. In the kernel a
/// section runs on one task; in .NET a flow moves between threads at every await and spawns
/// child tasks, so the section travels in the ExecutionContext and each thread that runs
/// part of it gets a part of its own: its own pooled area, its own device reference, moved
/// into the device area when the flow leaves that thread (see <see cref="Remote"/>). No two
/// threads ever write one area.
/// </summary>
internal sealed class RemoteSection(KcovDevice kcov, uint size, int mode, int sequence)
{
    internal readonly KcovDevice Kcov = kcov;
    internal readonly uint Size = size;
    internal readonly int Mode = mode;
    internal readonly int Sequence = sequence;

    private int _stopped;

    /// <summary>Set once by Stop; no part starts on a thread after it.</summary>
    internal bool Stopped => Volatile.Read(ref _stopped) != 0;

    /// <summary>Marks the section stopped; true for the one caller that stopped it.</summary>
    internal bool MarkStopped() => Interlocked.Exchange(ref _stopped, 1) == 0;

    /// <summary>Threads running a part of this section right now (or about to start one: see Remote.Enter).</summary>
    internal int ActiveParts;

    /// <summary>Stop has returned: a part that ends now is dropped, not appended. Guarded by Kcov's lock.</summary>
    internal bool Closed;
}

/// <summary>
/// The scope of <see cref="Remote.Section(ulong)"/>: stops the section at the end of the
/// <c>using</c> block, if it started one (a start that kcov would refuse starts nothing).
/// </summary>
public readonly struct RemoteSectionScope : IDisposable
{
    private readonly bool _started;

    internal RemoteSectionScope(bool started) => _started = started;

    /// <summary>Whether the section started (the handle is held by a device and the thread was free).</summary>
    public bool Started => _started;

    /// <summary>kcov_remote_stop() if this scope's start started a section.</summary>
    public void Dispose()
    {
        if (_started)
            Remote.Stop();
    }
}
