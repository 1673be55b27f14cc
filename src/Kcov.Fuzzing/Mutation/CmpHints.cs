namespace Kcov.Fuzzing.Mutation;

/// <summary>
/// syzkaller's comparison hints: an input was run with the device in KCOV_TRACE_CMP; for each
/// comparison record (type, arg1, arg2, pc) the operand that came from the input is looked for in
/// the input, as a 1, 2, 4 or 8-byte integer in both byte orders, and each place it is found gives
/// a candidate with the other operand written there instead. A 4-byte magic number the target
/// compares against is then one execution away instead of 2^32.
/// </summary>
internal static class CmpHints
{
    private const int MaxPlacesPerValue = 16;

    /// <summary>Candidates derived from the comparison records in <paramref name="area"/>.</summary>
    public static List<byte[]> Candidates(ReadOnlySpan<ulong> area, ReadOnlySpan<byte> input, int maxCandidates)
    {
        var result = new List<byte[]>();
        var seen = new HashSet<ulong>();
        long records = (long)Math.Min(area[0], (ulong)((area.Length - 1) / KcovAbi.WordsPerCmp));
        byte[] scratch = input.ToArray();
        for (long r = 0; r < records && result.Count < maxCandidates; r++)
        {
            var record = area.Slice(1 + (int)r * KcovAbi.WordsPerCmp, KcovAbi.WordsPerCmp);
            ulong type = record[0], arg1 = record[1], arg2 = record[2];
            int size = 1 << (int)((type & KcovAbi.CmpMask) >> 1);
            // With a constant, arg1 is the constant: only the variable side can come from the input.
            AddReplacements(arg2, arg1, size, input, scratch, seen, result, maxCandidates);
            if ((type & KcovAbi.CmpConst) == 0)
                AddReplacements(arg1, arg2, size, input, scratch, seen, result, maxCandidates);
        }
        return result;
    }

    private static void AddReplacements(ulong from, ulong to, int size, ReadOnlySpan<byte> input, byte[] scratch,
        HashSet<ulong> seen, List<byte[]> result, int max)
    {
        if (from == to)
            return;
        // The operands were widened to 64 bits; the input may hold them in any narrower field
        // (a byte widened to an int compare), never a wider one than the comparison.
        for (int width = 1; width <= size && width <= 8; width *= 2)
        {
            if (!Fits(from, width) || !Fits(to, width))
                continue;
            for (int order = 0; order < (width == 1 ? 1 : 2); order++)
            {
                bool big = order == 1;
                int places = 0;
                for (int pos = 0; pos + width <= input.Length && places < MaxPlacesPerValue; pos++)
                {
                    if (Mutators.ReadUInt(input.Slice(pos, width), big) != Truncate(from, width))
                        continue;
                    places++;
                    Mutators.WriteUInt(scratch.AsSpan(pos, width), to, big);
                    if (seen.Add(Hash(scratch)))
                        result.Add((byte[])scratch.Clone());
                    input.Slice(pos, width).CopyTo(scratch.AsSpan(pos));
                    if (result.Count >= max)
                        return;
                }
            }
        }
    }

    /// <summary>True if v is a width-byte value, unsigned or sign-extended.</summary>
    private static bool Fits(ulong v, int width)
    {
        if (width == 8)
            return true;
        int bits = width * 8;
        long signed = (long)v;
        return v >> bits == 0 || (signed < 0 && signed >> (bits - 1) == -1);
    }

    private static ulong Truncate(ulong v, int width) => width == 8 ? v : v & ((1UL << (width * 8)) - 1);

    /// <summary>FNV-1a: enough to skip duplicate candidates.</summary>
    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in bytes)
            h = (h ^ b) * 1099511628211UL;
        return h ^ (ulong)bytes.Length;
    }
}
