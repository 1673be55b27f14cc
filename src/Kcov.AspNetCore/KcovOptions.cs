namespace Kcov.AspNetCore;

/// <summary>Options of <see cref="KcovServiceCollectionExtensions.AddKcov"/> (configuration section "Kcov").</summary>
public sealed class KcovOptions
{
    /// <summary>
    /// The control endpoint's Unix socket path (a pipe name on Windows). When null, the
    /// environment variable <c>KCOV_CONTROL</c> names it; when that is unset too, the endpoint is
    /// off (the default): no other process can open this service's kcov device.
    /// </summary>
    public string? ControlEndpoint { get; set; }
}
