namespace Kcov.AspNetCore.Tests;

/// <summary>
/// One instrumented OrderService process for the tests of the "order service" collection (they run
/// one after the other), with its control endpoint in a directory of its own.
/// </summary>
public sealed class OrderServiceFixture : IDisposable
{
    private readonly TempDirectory _dir = new();

    public OrderServiceFixture() => Service = InstrumentedOrderService.Start(_dir.Combine("kcov.sock"));

    internal OrderServiceProcess Service { get; }

    public Uri Orders => new(Service.BaseAddress, "orders");

    public void Dispose()
    {
        Service.Dispose();
        _dir.Dispose();
    }
}
