namespace Kcov.Samples.Targets;

/// <summary>
/// A hang that holds a lock: "L" and a digit spin forever inside <c>lock (Gate)</c>, and any input
/// starting with "W" takes the same lock. Once a fuzzer leaves the spinning input by parking its
/// thread, the lock stays held, and the next "W" input waits forever outside instrumented code: a
/// hang of the process's state, not of that input, which a fresh process runs in no time.
/// </summary>
public static class LockedLoopTarget
{
    private static readonly object Gate = new();

    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2)
            return;
        if (data[0] == (byte)'L' && data[1] >= (byte)'0' && data[1] <= (byte)'9')
        {
            lock (Gate)
            {
                int turns = 0;
                // The planted hang: nothing in the loop changes its condition.
                while (data[1] != (byte)'x')
                    turns++;
                GC.KeepAlive(turns);
            }
        }
        else if (data[0] == (byte)'W')
        {
            lock (Gate)
                GC.KeepAlive(data.Length);
        }
    }
}
