namespace Kcov.Control;

/// <summary>One piece of work under a watched handle (see <see cref="RemoteWork.Begin"/>).</summary>
public sealed class RemoteWorkItem
{
    private readonly RemoteWorkState _state;
    private int _ended;

    internal RemoteWorkItem(RemoteWorkState state) => _state = state;

    /// <summary>
    /// The work is done and its coverage is in the area. A <paramref name="fault"/> it met is kept
    /// for the client's next wait, described by <paramref name="where"/> (e.g. "request POST /parse").
    /// Ending twice does nothing.
    /// </summary>
    public void End(Exception? fault = null, string where = "")
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
            return;
        _state.End(fault is null ? null : $"{where}{Environment.NewLine}{fault}");
    }
}
