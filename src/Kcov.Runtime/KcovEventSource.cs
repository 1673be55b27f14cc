using System.Diagnostics.Tracing;

namespace Kcov;

/// <summary>
/// kcov's WARN_ON(): misuse that kcov does not answer with an errno (it cannot: the
/// caller is not a syscall) is reported here, under the name <c>Kcov</c>, so
/// <c>dotnet-trace collect --providers Kcov</c> or an <see cref="EventListener"/> sees it.
/// </summary>
[EventSource(Name = "Kcov")]
internal sealed class KcovEventSource : EventSource
{
    internal static readonly KcovEventSource Log = new();

    private KcovEventSource() { }

    /// <summary>A warning: <paramref name="site"/> is the kcov function that would have warned.</summary>
    [Event(1, Level = EventLevel.Warning, Message = "{0}: {1}")]
    public void Warning(string site, string message)
    {
        if (IsEnabled())
            WriteEvent(1, site, message);
    }
}
