using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Executor;

/// <summary>
/// Leaves an input that hangs without restarting the executor. .NET cannot abort a thread, and a new
/// executor costs seconds (process start, JIT, the corpus run again), which a target whose loop is
/// easy to reach pays every few dozen inputs. But a loop of instrumented code runs a probe on every
/// turn: asked by the supervisor (<see cref="MessageKind.Park"/>, which names the input by the slot's
/// heartbeat), the fuzzing thread is stopped at its next block (<see cref="KcovTask.RequestPark"/>),
/// gives up the device there and blocks for good, and a new thread takes the device and goes on with
/// the campaign (<see cref="FuzzLoop.ResumeAfterHang"/>), warm, with the corpus in memory.
/// <para>
/// A thread stuck outside instrumented code (a wait, a loop in the framework) never gets to a block;
/// then, as for a hang during the seeds, the answer is "not parked" and the supervisor ends the
/// executor as before. A parked thread keeps its stack, what its input allocated, and any lock it held:
/// the supervisor parks a bounded number per executor and ends one whose memory grew.
/// </para>
/// </summary>
internal sealed class HangParking(FuzzLoop loop, TargetRunner runner, ControlBlock block, int slot, Channel channel, Action finish)
{
    /// <summary>How long the thread has to get to a block: a loop of instrumented code gets there in microseconds.</summary>
    private static readonly TimeSpan ReachLimit = TimeSpan.FromSeconds(1);

    private int _parked;

    /// <summary>
    /// Parks the thread running the input with this <paramref name="heartbeat"/>, if it still runs it,
    /// and goes on fuzzing on a new thread; answers the supervisor either way. Called on the channel's reader thread.
    /// </summary>
    public void Park(long heartbeat)
    {
        // The new thread gets the stack size of the one it replaces (the main thread's, at first).
        int stack = runner.StackSize;
        if (!TryPark(heartbeat, out var input))
        {
            channel.Send(new Message { Kind = MessageKind.Parked, Numbers = [heartbeat, 0] });
            return;
        }
        var next = new Thread(() =>
        {
            runner.Adopt();
            loop.ResumeAfterHang(input);
            // After the slot went idle: the supervisor then watches the next input, not the parked one.
            channel.Send(new Message { Kind = MessageKind.Parked, Numbers = [heartbeat, 1] });
            loop.Fuzz();
            // The executor's first thread is parked and never returns from Main: the last thread ends the process.
            finish();
        }, stack) { Name = $"kcov-fuzz-{++_parked}" };
        next.Start();
    }

    private bool TryPark(long heartbeat, out byte[] input)
    {
        input = [];
        if (!loop.Fuzzing)
            return false;
        var answer = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancel = runner.RequestPark(() =>
        {
            byte[]? hung = null;
            try
            {
                // Only the input the supervisor named, still running: never the next one.
                if (block.Heartbeat(slot) == heartbeat && block.State(slot) == ControlBlock.StateRunning)
                {
                    var running = block.ReadInput(slot);
                    runner.ReleaseOnParkedThread();
                    hung = running;
                }
            }
            finally
            {
                answer.TrySetResult(hung);
            }
            return hung is not null;
        });
        if (cancel is null)
            return false;
        // Withdrawn before the thread got to a block: not parked. Otherwise it took the request: its answer comes.
        if (!answer.Task.Wait(ReachLimit) && cancel())
            return false;
        input = answer.Task.Result ?? [];
        return answer.Task.Result is not null;
    }
}
