using System.Buffers.Binary;
using System.Globalization;

namespace Kcov.Fuzzing.Mutation;

/// <summary>The byte-level mutators; each is a <see cref="Mutator"/>, registered by name in <see cref="MutationDispatcher"/>.</summary>
internal static class Mutators
{
    public static int EraseBytes(MutationContext c, byte[] d, int size, int maxSize)
    {
        if (size <= 1)
            return 0;
        int n = 1 + c.Random.Next(Math.Max(1, size / 2));
        int pos = c.Random.Next(size - n + 1);
        Array.Copy(d, pos + n, d, pos, size - pos - n);
        return size - n;
    }

    public static int InsertByte(MutationContext c, byte[] d, int size, int maxSize)
    {
        if (size >= maxSize)
            return 0;
        int pos = c.Random.Next(size + 1);
        Array.Copy(d, pos, d, pos + 1, size - pos);
        d[pos] = (byte)c.Random.Next(256);
        return size + 1;
    }

    public static int InsertRepeatedBytes(MutationContext c, byte[] d, int size, int maxSize)
    {
        const int MinBytes = 3;
        if (size + MinBytes >= maxSize)
            return 0;
        int n = MinBytes + c.Random.Next(Math.Min(128, maxSize - size - MinBytes));
        int pos = c.Random.Next(size + 1);
        Array.Copy(d, pos, d, pos + n, size - pos);
        byte b = c.Random.Next(2) == 0 ? (byte)c.Random.Next(256) : (byte)(c.Random.Next(2) == 0 ? 0 : 0xFF);
        d.AsSpan(pos, n).Fill(b);
        return size + n;
    }

    public static int ChangeBit(MutationContext c, byte[] d, int size, int maxSize)
    {
        if (size == 0)
            return 0;
        d[c.Random.Next(size)] ^= (byte)(1 << c.Random.Next(8));
        return size;
    }

    public static int ChangeByte(MutationContext c, byte[] d, int size, int maxSize)
    {
        if (size == 0)
            return 0;
        d[c.Random.Next(size)] = (byte)c.Random.Next(256);
        return size;
    }

    public static int ShuffleBytes(MutationContext c, byte[] d, int size, int maxSize)
    {
        if (size <= 1)
            return 0;
        int n = 2 + c.Random.Next(Math.Min(8, size) - 1);
        int pos = c.Random.Next(size - n + 1);
        c.Random.Shuffle(d.AsSpan(pos, n));
        return size;
    }

    /// <summary>Copies a chunk of the input over another place of it, or inserts the copy.</summary>
    public static int CopyPart(MutationContext c, byte[] d, int size, int maxSize)
    {
        if (size < 2)
            return 0;
        int n = 1 + c.Random.Next(size - 1);
        int from = c.Random.Next(size - n + 1);
        var chunk = d.AsSpan(from, n).ToArray();
        if (c.Random.Next(2) == 0 || size + n > maxSize)
        {
            int to = c.Random.Next(size - n + 1);
            chunk.CopyTo(d.AsSpan(to));
            return size;
        }
        int at = c.Random.Next(size + 1);
        Array.Copy(d, at, d, at + n, size - at);
        chunk.CopyTo(d.AsSpan(at));
        return size + n;
    }

    /// <summary>Finds a run of ASCII digits and replaces the number by a nearby or random one.</summary>
    public static int ChangeASCIIInteger(MutationContext c, byte[] d, int size, int maxSize)
    {
        if (size == 0)
            return 0;
        int start = c.Random.Next(size);
        while (start < size && !char.IsAsciiDigit((char)d[start]))
            start++;
        if (start == size)
            return 0;
        int end = start;
        while (end < size && end - start < 18 && char.IsAsciiDigit((char)d[end]))
            end++;
        long v = long.Parse(d.AsSpan(start, end - start), CultureInfo.InvariantCulture);
        v = c.Random.Next(5) switch
        {
            0 => v + 1,
            1 => v - 1,
            2 => v / 2,
            3 => v * 2,
            _ => c.Random.NextInt64(Math.Min(Math.Abs(v), 1L << 30) * 10 + 10),
        };
        byte[] text = System.Text.Encoding.ASCII.GetBytes(Math.Abs(v).ToString(CultureInfo.InvariantCulture));
        int newSize = size - (end - start) + text.Length;
        if (newSize > maxSize)
            return 0;
        Array.Copy(d, end, d, start + text.Length, size - end);
        text.CopyTo(d, start);
        return newSize;
    }

    /// <summary>Adds a small signed delta to a 1/2/4/8-byte integer in either byte order ("arith").</summary>
    public static int ChangeBinaryInteger(MutationContext c, byte[] d, int size, int maxSize)
    {
        int width = 1 << c.Random.Next(4);
        if (size < width)
            return 0;
        int pos = c.Random.Next(size - width + 1);
        var span = d.AsSpan(pos, width);
        bool big = c.Random.Next(2) == 0;
        long delta = c.Random.Next(-10, 11);
        if (delta == 0)
            delta = size; // the input's length is a likely value for a length field
        ulong v = ReadUInt(span, big);
        WriteUInt(span, v + (ulong)delta, big);
        return size;
    }

    /// <summary>Splices another corpus input into this one (libFuzzer's CrossOver).</summary>
    public static int CrossOver(MutationContext c, byte[] d, int size, int maxSize)
    {
        byte[]? other = c.PickOther();
        if (other is null || other.Length == 0 || size == 0)
            return 0;
        int keep = c.Random.Next(size + 1);
        int from = c.Random.Next(other.Length);
        int n = Math.Min(other.Length - from, maxSize - keep);
        if (n <= 0)
            return 0;
        other.AsSpan(from, n).CopyTo(d.AsSpan(keep));
        return keep + n;
    }

    public static int InsertDictToken(MutationContext c, byte[] d, int size, int maxSize) => InsertToken(c.Tokens, c, d, size, maxSize);

    public static int OverwriteDictToken(MutationContext c, byte[] d, int size, int maxSize) => OverwriteToken(c.Tokens, c, d, size, maxSize);

    /// <summary>Inserts a value the target was seen comparing against (libFuzzer's CMP dictionary).</summary>
    public static int InsertCmpToken(MutationContext c, byte[] d, int size, int maxSize) => InsertToken(c.Compared, c, d, size, maxSize);

    /// <summary>Overwrites part of the input with a value the target was seen comparing against.</summary>
    public static int OverwriteCmpToken(MutationContext c, byte[] d, int size, int maxSize) => OverwriteToken(c.Compared, c, d, size, maxSize);

    private static int InsertToken(IReadOnlyList<byte[]> tokens, MutationContext c, byte[] d, int size, int maxSize)
    {
        if (tokens.Count == 0)
            return 0;
        byte[] token = tokens[c.Random.Next(tokens.Count)];
        if (size + token.Length > maxSize)
            return 0;
        int pos = c.Random.Next(size + 1);
        Array.Copy(d, pos, d, pos + token.Length, size - pos);
        token.CopyTo(d, pos);
        return size + token.Length;
    }

    private static int OverwriteToken(IReadOnlyList<byte[]> tokens, MutationContext c, byte[] d, int size, int maxSize)
    {
        if (tokens.Count == 0)
            return 0;
        byte[] token = tokens[c.Random.Next(tokens.Count)];
        if (token.Length > size)
            return 0;
        token.CopyTo(d, c.Random.Next(size - token.Length + 1));
        return size;
    }

    internal static ulong ReadUInt(ReadOnlySpan<byte> span, bool bigEndian) => span.Length switch
    {
        1 => span[0],
        2 => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(span) : BinaryPrimitives.ReadUInt16LittleEndian(span),
        4 => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(span) : BinaryPrimitives.ReadUInt32LittleEndian(span),
        _ => bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(span) : BinaryPrimitives.ReadUInt64LittleEndian(span),
    };

    internal static void WriteUInt(Span<byte> span, ulong v, bool bigEndian)
    {
        switch (span.Length)
        {
            case 1: span[0] = (byte)v; break;
            case 2: if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)v); break;
            case 4: if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(span, (uint)v); else BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)v); break;
            default: if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(span, v); else BinaryPrimitives.WriteUInt64LittleEndian(span, v); break;
        }
    }
}
