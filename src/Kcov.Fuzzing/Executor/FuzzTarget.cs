namespace Kcov.Fuzzing.Executor;

/// <summary>The code under test, as the executor calls it: once per input, on the thread that owns the kcov device.</summary>
internal abstract class FuzzTarget
{
    public abstract void Invoke(ReadOnlySpan<byte> input);

    /// <summary>
    /// True if the target runs outside the calling thread (async): the device is then
    /// remote-enabled with a common handle and the target runs in a remote section.
    /// </summary>
    public virtual bool Remote => false;

    /// <summary>Words of the area each remote section writes; null: as many as the device area.</summary>
    public virtual uint? SectionWords => null;

    /// <summary>The descriptor the runner traces with: this process's device, unless the code under test runs elsewhere.</summary>
    public virtual IKcovDevice OpenDevice() => new LocalKcovDevice();

    /// <summary>The runner remote-enabled the device with <paramref name="handle"/> (a target in another process sends it with each input).</summary>
    public virtual void UseCommonHandle(ulong handle) { }

    /// <summary>Checked by the supervisor before any executor starts: a one-line FuzzerUsageException when the target cannot run.</summary>
    public virtual void Check() { }

    /// <summary>The synchronous form: <c>Action&lt;ReadOnlySpan&lt;byte&gt;&gt;</c>, traced on the calling thread (KCOV_ENABLE).</summary>
    public static FuzzTarget From(Action<ReadOnlySpan<byte>> target) => new SyncTarget(target);

    /// <summary>The async form: <c>Func&lt;ReadOnlyMemory&lt;byte&gt;, Task&gt;</c>, traced through a remote section.</summary>
    public static FuzzTarget From(Func<ReadOnlyMemory<byte>, Task> target) => new AsyncTarget(target);

    private sealed class SyncTarget(Action<ReadOnlySpan<byte>> target) : FuzzTarget
    {
        public override void Invoke(ReadOnlySpan<byte> input) => target(input);
    }

    /// <summary>
    /// An async target runs on thread-pool threads, which no device is bound to. kcov's answer is
    /// a remote section under the common handle: the executor thread remote-enabled the device with
    /// a common handle, which flows (ExecutionContext) into the Task.Run below; there the section
    /// starts, follows every await and child task, and at its end every thread's part has been
    /// appended to the device area, where the executor reads it as usual. (A section cannot start
    /// on the enabling thread itself: kcov refuses remote sections on a task with a device.)
    /// </summary>
    private sealed class AsyncTarget(Func<ReadOnlyMemory<byte>, Task> target) : FuzzTarget
    {
        public override bool Remote => true;

        public override void Invoke(ReadOnlySpan<byte> input)
        {
            var memory = new ReadOnlyMemory<byte>(input.ToArray());
            Task.Run(async () =>
            {
                using (Kcov.Remote.Section(Kcov.Remote.CommonHandle))
                    await target(memory).ConfigureAwait(false);
            }).GetAwaiter().GetResult();
        }
    }
}
