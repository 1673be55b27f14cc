using Kcov;

namespace RemoteExample;

/// <summary>
/// Workers spawned on behalf of the collecting flow, like vhost workers: they run under the
/// common handle they inherit (kcov_common_handle()), on whatever pool thread they land on.
/// </summary>
public static class VhostWorker
{
    public static Task Start(string name) => Task.Run(async () =>
    {
        using (Remote.Section(Remote.CommonHandle))
        {
            int queued = Process(name);
            await Task.Yield(); // the section follows the flow to another thread
            Complete(queued);
        }
    });

    private static int Process(string name) => name.StartsWith("vhost-net", StringComparison.Ordinal) ? 2 : 1;

    private static int Complete(int queued) => queued > 1 ? queued - 1 : 0;
}
