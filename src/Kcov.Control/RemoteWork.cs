using System.Collections.Concurrent;

namespace Kcov.Control;

/// <summary>
/// Work in flight under common handles, for the control endpoint's wait (<see cref="ControlProtocol.OpWait"/>).
/// A client that sends a request with its handle needs to know when the coverage of everything
/// that request started has reached its area: the request's own section ends after the response
/// may already have been read, and work it queued runs later still. The code that runs work under
/// a client's handle (Kcov.AspNetCore's middleware and queue, or a service's own) brackets it with
/// <see cref="Begin"/> and <see cref="RemoteWorkItem.End"/>; the client's wait returns once no
/// item of its handle is open, with the faults (exceptions) its work met.
/// <para>
/// Only handles a control client holds are tracked (the endpoint watches the common handle of
/// each KCOV_REMOTE_ENABLE it passes on): for any other handle <see cref="Begin"/> is one
/// dictionary lookup and returns null.
/// </para>
/// </summary>
public static class RemoteWork
{
    private static readonly ConcurrentDictionary<ulong, RemoteWorkState> s_watched = new();

    /// <summary>
    /// Work under <paramref name="handle"/> begins (a request starts, an item is queued). End it
    /// once its coverage is in the device area, that is after its remote section stopped.
    /// </summary>
    /// <returns>The item to end, or null when no control client watches the handle.</returns>
    public static RemoteWorkItem? Begin(ulong handle)
    {
        if (handle == 0 || s_watched.IsEmpty || !s_watched.TryGetValue(handle, out var state))
            return null;
        return state.Begin();
    }

    /// <summary>Starts tracking <paramref name="handle"/> (a client just registered it); replaces an earlier watch of it.</summary>
    internal static RemoteWorkState Watch(ulong handle)
    {
        var state = new RemoteWorkState(handle);
        s_watched[handle] = state;
        return state;
    }

    /// <summary>Stops tracking, unless a newer watch of the same handle replaced this one.</summary>
    internal static void Unwatch(RemoteWorkState state) =>
        s_watched.TryRemove(KeyValuePair.Create(state.Handle, state));
}
