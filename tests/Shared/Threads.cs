// Linked into the test projects that need it (see their .csproj), so it is written once.
using System.Runtime.ExceptionServices;

namespace Kcov.Tests;

/// <summary>Runs test bodies on threads the test owns, so a binding can never leak into
/// another test through a reused xunit thread.</summary>
internal static class Threads
{
    /// <summary>Runs <paramref name="body"/> on a new thread, waits for it to end, rethrows its exception.</summary>
    public static void RunOnFreshThread(Action body)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { failure = ExceptionDispatchInfo.Capture(e); }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
    }
}
