namespace Kcov.Samples.Targets;

/// <summary>
/// Depth 4: a nested structure reached only after two checks. "NEST", version 2, then records
/// (tag, length, value). A list record (tag 0x2A) holds a count and 2-byte items; the planted
/// bug trusts the count over the record's length.
/// </summary>
public static class NestedTarget
{
    private const byte ListTag = 0x2A;

    public static void Run(ReadOnlySpan<byte> data)
    {
        // Check 1: the signature.
        if (data.Length < 6 || data[0] != 'N' || data[1] != 'E' || data[2] != 'S' || data[3] != 'T')
            return;
        // Check 2: the version.
        if (data[4] != 2)
            return;
        var records = data[5..];
        while (records.Length >= 2)
        {
            byte tag = records[0];
            int length = Math.Min(records[1], records.Length - 2);
            var value = records.Slice(2, length);
            if (tag == ListTag && length > 0)
                SumList(value);
            records = records[(2 + length)..];
        }
    }

    private static int SumList(ReadOnlySpan<byte> value)
    {
        int count = value[0];
        int sum = 0;
        // Planted bug: the count is not checked against the value's length.
        for (int i = 0; i < count; i++)
            sum += value[1 + 2 * i] | value[2 + 2 * i] << 8;
        return sum;
    }
}
