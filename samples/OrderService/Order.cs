namespace OrderService;

/// <summary>A parsed order, queued for fulfilment.</summary>
public sealed record Order(OrderLine[] Lines)
{
    public int TotalQuantity => Lines.Sum(line => line.Quantity);
}
