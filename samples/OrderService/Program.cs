using Kcov.AspNetCore;
using OrderService;

// POST /orders with an order message (see OrderParser): parsed in the request, packed and shipped
// later by a queue consumer (FulfilmentWorker), while a hosted loop restocks (RestockService).
var builder = WebApplication.CreateBuilder(args);
// ASP.NET Core logs every request at Information: a line per request would dominate the service's
// work under load (and fill the console of a fuzzing run); its warnings and errors still show.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.Services.AddKcov(); // the control endpoint, when KCOV_CONTROL (or Kcov:ControlEndpoint) names a socket
builder.Services.AddKcovWorkQueue<Order>(capacity: 256);
builder.Services.AddSingleton<Inventory>();
builder.Services.AddHostedService<FulfilmentWorker>();
builder.Services.AddHostedService<RestockService>();

var app = builder.Build();
// Off only to measure what the middleware costs (--KcovMiddleware=false).
if (app.Configuration.GetValue("KcovMiddleware", true))
    app.UseKcov();

app.MapPost("/orders", async (HttpRequest request, KcovWorkQueue<Order> queue, CancellationToken cancel) =>
{
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body, cancel);
    if (body.Length > OrderParser.MaxMessageBytes)
        return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
    if (!OrderParser.TryParse(body.GetBuffer().AsSpan(0, (int)body.Length), out var order, out var error))
        return Results.BadRequest(error);
    await queue.EnqueueAsync(order, cancel);
    return Results.Accepted(value: new { lines = order.Lines.Length, items = order.TotalQuantity });
});

app.MapGet("/stock/{sku}", (ushort sku, Inventory inventory) => Results.Ok(new { sku, stock = inventory.Stock(sku) }));

app.Run();
