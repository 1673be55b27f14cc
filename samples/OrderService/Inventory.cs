using System.Collections.Concurrent;

namespace OrderService;

/// <summary>Stock per article: taken by fulfilment, topped up by the restock loop.</summary>
public sealed class Inventory
{
    public const int FullStock = 100;

    private readonly ConcurrentDictionary<ushort, int> _stock = new();

    public int Stock(ushort sku) => _stock.GetValueOrDefault(sku, FullStock);

    /// <summary>Takes what is there, up to <paramref name="quantity"/>; returns how many were short.</summary>
    public int Take(ushort sku, int quantity)
    {
        int shortBy = 0;
        _stock.AddOrUpdate(sku, _ => Remaining(FullStock), (_, stock) => Remaining(stock));
        return shortBy;

        int Remaining(int stock)
        {
            shortBy = Math.Max(0, quantity - stock);
            return Math.Max(0, stock - quantity);
        }
    }

    /// <summary>Tops every article that ran low back up; returns how many it restocked.</summary>
    public int Restock()
    {
        int restocked = 0;
        foreach (var (sku, stock) in _stock)
        {
            if (stock >= FullStock / 2)
                continue;
            _stock[sku] = FullStock;
            restocked++;
        }
        return restocked;
    }
}
