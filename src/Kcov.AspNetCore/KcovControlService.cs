using Kcov.Control;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kcov.AspNetCore;

/// <summary>Runs the control endpoint (<see cref="KcovControlServer"/>) for as long as the host runs, when it is configured.</summary>
internal sealed class KcovControlService(IOptions<KcovOptions> options, ILogger<KcovControlService> logger) : IHostedService
{
    private KcovControlServer? _server;

    /// <summary>The endpoint while the host runs and one is configured, for tests and diagnostics.</summary>
    internal KcovControlServer? Server => _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        string? endpoint = options.Value.ControlEndpoint ?? Environment.GetEnvironmentVariable(KcovControlServer.EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(endpoint))
            return Task.CompletedTask;
        // An endpoint that cannot be served fails the start with the server's one-line reason.
        _server = KcovControlServer.Start(endpoint, message => logger.LogWarning("{Message}", message));
        logger.LogInformation("kcov control endpoint: serving this process's kcov device at {Endpoint}", _server.Endpoint);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _server?.Dispose();
        _server = null;
        return Task.CompletedTask;
    }
}
