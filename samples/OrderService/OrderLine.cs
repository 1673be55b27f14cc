namespace OrderService;

/// <summary>One line of an order: an article number and how many of it.</summary>
public readonly record struct OrderLine(ushort Sku, byte Quantity);
