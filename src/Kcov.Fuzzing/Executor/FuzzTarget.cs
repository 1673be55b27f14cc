namespace Kcov.Fuzzing.Executor;

/// <summary>The code under test, as the executor calls it: once per input, on the thread that owns the kcov device.</summary>
internal abstract class FuzzTarget
{
    public abstract void Invoke(ReadOnlySpan<byte> input);

    /// <summary>The synchronous form: <c>Action&lt;ReadOnlySpan&lt;byte&gt;&gt;</c>, traced on the calling thread (KCOV_ENABLE).</summary>
    public static FuzzTarget From(Action<ReadOnlySpan<byte>> target) => new SyncTarget(target);

    private sealed class SyncTarget(Action<ReadOnlySpan<byte>> target) : FuzzTarget
    {
        public override void Invoke(ReadOnlySpan<byte> input) => target(input);
    }
}
