using System.Buffers.Binary;

namespace OrderService;

/// <summary>
/// The order message: "ORD1" (u32), version 2 (u8), the line count (u8, 1 to 16), then per line the
/// article number (u16, little-endian) and the quantity (u8, not 0).
/// </summary>
public static class OrderParser
{
    public const int MaxMessageBytes = 64 * 1024;
    private const uint Magic = 0x3144524F; // "ORD1"
    private const int HeaderBytes = 6;
    private const int LineBytes = 3;
    private const int MaxLines = 16;

    public static bool TryParse(ReadOnlySpan<byte> message, out Order order, out string error)
    {
        order = null!;
        if (message.Length < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(message) != Magic)
            return Fail("not an order message (it starts with ORD1)", out error);
        if (message[4] != 2)
            return Fail($"version {message[4]} is not supported; send version 2", out error);
        int count = message[5];
        if (count == 0 || count > MaxLines)
            return Fail($"an order has 1 to {MaxLines} lines, not {count}", out error);
        if (message.Length < HeaderBytes + count * LineBytes)
            return Fail($"{count} lines need {HeaderBytes + count * LineBytes} bytes; the message has {message.Length}", out error);
        var lines = new OrderLine[count];
        for (int i = 0; i < count; i++)
        {
            var field = message.Slice(HeaderBytes + i * LineBytes, LineBytes);
            byte quantity = field[2];
            if (quantity == 0)
                return Fail($"line {i + 1} orders nothing", out error);
            lines[i] = new OrderLine(BinaryPrimitives.ReadUInt16LittleEndian(field), quantity);
        }
        order = new Order(lines);
        error = "";
        return true;
    }

    private static bool Fail(string why, out string error)
    {
        error = why;
        return false;
    }
}
