namespace Kcov.Samples.Targets;

/// <summary>
/// The async target form: <see cref="NestedTarget"/> behind awaits, so its blocks run on
/// thread-pool threads. The fuzzer covers it through a remote section under the common handle.
/// </summary>
public static class AsyncNestedTarget
{
    public static async Task Run(ReadOnlyMemory<byte> data)
    {
        await Task.Yield();
        await Task.Run(() => NestedTarget.Run(data.Span));
    }
}
