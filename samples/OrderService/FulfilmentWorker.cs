using Kcov.AspNetCore;

namespace OrderService;

/// <summary>The queue's consumer: each order runs as a kcov remote section of the client that placed it.</summary>
public sealed class FulfilmentWorker(KcovWorkQueue<Order> queue, Inventory inventory) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        queue.ConsumeAsync((order, _) => Fulfilment.ShipAsync(order, inventory), stoppingToken);
}
