using Kcov.AspNetCore;

namespace OrderService;

/// <summary>
/// A hosted loop with a global kcov handle: subsystem 2 ("restock"), instance 1 for the first loop
/// of the process. A client that registers KcovAbi.RemoteHandle(2 &lt;&lt; 56, 1) sees its iterations.
/// </summary>
public sealed class RestockService(Inventory inventory, IConfiguration configuration) : BackgroundService
{
    public const byte Subsystem = 2;

    private readonly KcovWorker _worker = KcovWorker.Next(Subsystem, "restock");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(configuration.GetValue("Restock:IntervalMs", 1000));
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            await _worker.RunIterationAsync(() => Task.FromResult(inventory.Restock()));
    }
}
