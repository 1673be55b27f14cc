using System.Buffers.Binary;

namespace Kcov.Samples.Targets;

/// <summary>
/// Hang-prone: an escape decoder whose loop never advances on '%' followed by a digit (reachable from the
/// first bytes, and rebuilt by comparison hints from almost any input), plus a deeper bug behind a
/// magic number and a checksum. <see cref="RunWithoutLoop"/> is the same target with the loop fixed:
/// the baseline of the hang-prone throughput.
/// </summary>
public static class EscapeTarget
{
    public static void Run(ReadOnlySpan<byte> data) => Decode(data, fixedLoop: false);

    public static void RunWithoutLoop(ReadOnlySpan<byte> data) => Decode(data, fixedLoop: true);

    private static void Decode(ReadOnlySpan<byte> data, bool fixedLoop)
    {
        int i = 0, value = 0;
        while (i < data.Length && data[i] != (byte)'#')
        {
            if (data[i] == (byte)'%')
            {
                int j = i + 1;
                // The planted hang: the digit is read but j only moves in the fixed version.
                while (j < data.Length && data[j] >= (byte)'0' && data[j] <= (byte)'9')
                {
                    value = value * 10 + data[j] - '0';
                    if (fixedLoop)
                        j++;
                }
                i = j;
                continue;
            }
            i++;
        }
        if (i < data.Length)
            Record(data[(i + 1)..]);
    }

    /// <summary>After '#': "KREC", a 16-bit length that must match, and a checksum byte.</summary>
    private static void Record(ReadOnlySpan<byte> record)
    {
        if (record.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(record) != 0x4345524B) // "KREC"
            return;
        int length = BinaryPrimitives.ReadUInt16LittleEndian(record[4..]);
        if (length != record.Length - 6)
            return;
        byte sum = 0;
        foreach (byte b in record[6..^1])
            sum += b;
        if (sum == record[^1] && length > 2)
            throw new InvalidDataException("planted bug: a KREC record with a valid checksum");
    }
}
