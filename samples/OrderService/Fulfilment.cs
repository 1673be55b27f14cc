namespace OrderService;

/// <summary>Packs and ships an order, in the background, after the request that placed it returned.</summary>
public static class Fulfilment
{
    /// <summary>The gift-wrap article: a line of it wraps the line before it.</summary>
    public const ushort GiftWrapSku = 0x7777;

    public static async Task ShipAsync(Order order, Inventory inventory)
    {
        var parcels = Pack(order, inventory);
        await Task.Yield(); // the carrier's API, in a real service
        Confirm(parcels);
    }

    private static List<int> Pack(Order order, Inventory inventory)
    {
        var parcels = new List<int>();
        for (int i = 0; i < order.Lines.Length; i++)
        {
            var line = order.Lines[i];
            if (line.Sku == GiftWrapSku)
            {
                // Planted bug: a gift wrap on the first line has no line before it to wrap.
                var wrapped = order.Lines[i - 1];
                parcels[^1] += wrapped.Quantity * line.Quantity;
                continue;
            }
            int shortBy = inventory.Take(line.Sku, line.Quantity);
            parcels.Add(line.Quantity - shortBy);
        }
        return parcels;
    }

    private static int Confirm(List<int> parcels) => parcels.Count(quantity => quantity > 0);
}
