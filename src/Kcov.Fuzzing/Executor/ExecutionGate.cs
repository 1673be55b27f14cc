using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Executor;

/// <summary>
/// Admits executions against the -runs budget and, in an executor, publishes each input to its
/// control-block slot before it runs, so that the supervisor finds the input that killed it.
/// Without a control block (in-process use) it counts locally.
/// </summary>
internal sealed class ExecutionGate(ControlBlock? block, int slot, long runs)
{
    private long _local;
    private bool _stopRequested;

    /// <summary>
    /// False once the budget is spent or a stop was asked: do not run the input. A seed input
    /// (<paramref name="bounded"/> false) counts but is not refused for the budget. <paramref name="traceOffset"/>
    /// is where the trace starts in the area (<see cref="TargetRunner.TraceOffset"/>: the unique-mode bitmap's words).
    /// </summary>
    public bool TryBegin(ReadOnlySpan<byte> input, KcovMode mode = KcovMode.TracePc, ulong parent = 0, bool shortTimeout = false, bool bounded = true, int traceOffset = 0)
    {
        if (block is null)
        {
            if (bounded && runs >= 0 && _local >= runs)
                return false;
            _local++;
            return true;
        }
        if (!block.TryClaimExecution(bounded))
            return false;
        block.BeginInput(slot, input, mode, parent, shortTimeout, traceOffset);
        return true;
    }

    /// <summary>
    /// The input returned. Returns what the target overwrote in the control block's header while it
    /// ran (null if nothing), after repairing it from the copy this executor validated at open.
    /// </summary>
    public string? End()
    {
        if (block is null)
            return null;
        block.EndInput(slot);
        string? overwritten = block.CheckHeader();
        if (overwritten is not null)
            block.WriteHeader();
        return overwritten;
    }

    /// <summary>Executions of the whole campaign (all executors, all restarts) so far.</summary>
    public long TotalExecs => block?.TotalExecs ?? _local;

    public bool StopRequested => block?.StopRequested ?? Volatile.Read(ref _stopRequested);

    /// <summary>Ends the loop after the input running now: the campaign's stop, or, in process, the caller's.</summary>
    public void RequestStop()
    {
        if (block is null)
            Volatile.Write(ref _stopRequested, true);
        else
            block.RequestStop();
    }
}
