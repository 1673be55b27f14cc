using System.Buffers.Binary;

namespace Kcov.Samples.Targets;

/// <summary>
/// Depth 3: a length field that must match. A 2-byte little-endian length, then that many bytes;
/// a record whose length is right and whose payload starts with '!' has a planted off-by-one.
/// </summary>
public static class LengthFieldTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.Length < 3)
            return;
        int length = BinaryPrimitives.ReadUInt16LittleEndian(data);
        var payload = data[2..];
        if (length != payload.Length)
            return;
        if (payload[0] != '!')
            return;
        int sum = 0;
        // Planted bug: <= reads one byte past the payload.
        for (int i = 0; i <= length; i++)
            sum += payload[i];
        _ = sum;
    }
}
