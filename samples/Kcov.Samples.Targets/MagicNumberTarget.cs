using System.Buffers.Binary;

namespace Kcov.Samples.Targets;

/// <summary>Depth 1: a 4-byte magic number. Random bytes hit it once in 2^32; comparison hints in one step.</summary>
public static class MagicNumberTarget
{
    private const uint Magic = 0x4B434F56; // "VOCK" little-endian

    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
            return;
        if (BinaryPrimitives.ReadUInt32LittleEndian(data) == Magic)
            throw new InvalidOperationException("planted bug: the magic number was accepted");
    }
}
