using System.Text;

namespace Kcov.Fuzzing.Mutation;

/// <summary>
/// syzkaller's comparison hints: an input was run with the device in KCOV_TRACE_CMP; for each
/// comparison record (type, arg1, arg2, pc) the operand that came from the input is looked for in
/// the input, as a 1, 2, 4 or 8-byte integer in both byte orders, and each place it is found gives
/// a candidate with the other operand written there instead. A 4-byte magic number the target
/// compares against is then one execution away instead of 2^32.
/// <para>
/// Data records (string and span comparisons from the call-site hooks, docs/trace-cmp-data.md) give
/// text hints: where the input holds one operand (as UTF-8 or UTF-16 text, or as bytes), a candidate
/// has the other written in its place, and another has it inserted there. The operands the input did
/// not hold are the values the target actually compared against: they go to <c>compared</c>, the
/// campaign's dictionary of compared values.
/// </para>
/// Records are deduplicated first, and operands are looked up in an index of the input, so a trace
/// of a million comparisons costs a pass over the records, not a pass over the input per record.
/// </summary>
internal static class CmpHints
{
    private const int MaxPlacesPerValue = 16;

    /// <summary>Only the first bytes of a large input are indexed for integer operands.</summary>
    private const int IndexedBytes = 64 << 10;

    /// <summary>Candidates derived from the comparison records in <paramref name="area"/>.</summary>
    /// <param name="area">A trace-cmp area: word 0 is the count of slots.</param>
    /// <param name="input">The input that ran.</param>
    /// <param name="maxCandidates">At most this many candidates.</param>
    /// <param name="compared">If given, receives the operands of data records that the input did not hold (UTF-8 or raw bytes).</param>
    public static List<byte[]> Candidates(ReadOnlySpan<ulong> area, ReadOnlySpan<byte> input, int maxCandidates, List<byte[]>? compared = null)
    {
        var result = new List<byte[]>();
        var seen = new HashSet<ulong>();
        var records = new HashSet<(ulong, ulong, ulong)>();
        var texts = new HashSet<(string, string)>(); // data operands already done, as hex
        InputIndex? index = null;
        byte[] scratch = input.ToArray();
        long slots = (long)Math.Min(area[0], (ulong)((area.Length - 1) / KcovAbi.WordsPerCmp));
        for (long r = 0; r < slots && result.Count < maxCandidates; r++)
        {
            var record = area.Slice(1 + (int)r * KcovAbi.WordsPerCmp, KcovAbi.WordsPerCmp);
            ulong type = record[0], arg1 = record[1], arg2 = record[2];
            if ((type & KcovAbi.CmpData) != 0)
            {
                int extra = KcovAbi.CmpDataExtraSlots(type);
                if (r + 1 + extra > slots)
                    break;
                var payload = System.Runtime.InteropServices.MemoryMarshal.AsBytes(area.Slice(1 + (int)(r + 1) * KcovAbi.WordsPerCmp, extra * KcovAbi.WordsPerCmp));
                r += extra;
                if (arg1 + arg2 > (ulong)payload.Length)
                    continue;
                var a = payload[..(int)arg1];
                var b = payload[(int)arg1..(int)(arg1 + arg2)];
                if (texts.Add((Convert.ToHexString(a), Convert.ToHexString(b))))
                    AddTextHints(a.ToArray(), b.ToArray(), (type & KcovAbi.CmpDataUtf16) != 0, input, seen, result, maxCandidates, compared);
                continue;
            }
            // Integer records repeat (a loop compares the same values again and again): each once.
            if (!records.Add((type & (KcovAbi.CmpMask | KcovAbi.CmpConst), arg1, arg2)))
                continue;
            int size = 1 << (int)((type & KcovAbi.CmpMask) >> 1);
            index ??= new InputIndex(input[..Math.Min(input.Length, IndexedBytes)]);
            // With a constant, arg1 is the constant: only the variable side can come from the input.
            AddReplacements(arg2, arg1, size, index, scratch, seen, result, maxCandidates);
            if ((type & KcovAbi.CmpConst) == 0)
                AddReplacements(arg1, arg2, size, index, scratch, seen, result, maxCandidates);
        }
        return result;
    }

    private static void AddReplacements(ulong from, ulong to, int size, InputIndex index, byte[] scratch,
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
                foreach (int pos in index.Places(width, big, Truncate(from, width)))
                {
                    var original = scratch.AsSpan(pos, width).ToArray();
                    Mutators.WriteUInt(scratch.AsSpan(pos, width), to, big);
                    if (seen.Add(Hash(scratch)))
                        result.Add((byte[])scratch.Clone());
                    original.CopyTo(scratch.AsSpan(pos));
                    if (result.Count >= max)
                        return;
                }
            }
        }
    }

    /// <summary>
    /// The hints of one data record: operands in each encoding the input may hold them in (text as
    /// UTF-8 and UTF-16, bytes as they are); where one is found, the other replaces it, and is inserted before it.
    /// </summary>
    private static void AddTextHints(byte[] a, byte[] b, bool utf16, ReadOnlySpan<byte> input,
        HashSet<ulong> seen, List<byte[]> result, int max, List<byte[]>? compared)
    {
        var encodings = utf16
            ? new[] { (a, b), (Utf8(a), Utf8(b)) }
            : new[] { (a, b) };
        bool foundA = false, foundB = false;
        foreach (var (ea, eb) in encodings)
        {
            foundA |= Substitute(ea, eb, input, seen, result, max);
            foundB |= Substitute(eb, ea, input, seen, result, max);
        }
        if (compared is null)
            return;
        // The expected side is the one the input did not hold; if it held neither, both may be.
        var text = encodings[^1];
        if (!foundB && text.Item2.Length > 0)
            compared.Add(text.Item2);
        if (!foundA && foundB && text.Item1.Length > 0)
            compared.Add(text.Item1);
    }

    /// <summary>Where <paramref name="from"/> is in the input: a candidate with <paramref name="to"/> there instead, and one with it inserted; true if found.</summary>
    private static bool Substitute(byte[] from, byte[] to, ReadOnlySpan<byte> input, HashSet<ulong> seen, List<byte[]> result, int max)
    {
        if (from.AsSpan().SequenceEqual(to))
            return false;
        if (from.Length == 0)
        {
            // An empty operand (an empty input, a missing field) is everywhere: put the other at the start.
            Add([.. to, .. input], seen, result, max);
            return false;
        }
        bool found = false;
        int places = 0;
        for (int pos = input.IndexOf(from); pos >= 0 && places < MaxPlacesPerValue && result.Count < max; places++)
        {
            found = true;
            Add([.. input[..pos], .. to, .. input[(pos + from.Length)..]], seen, result, max);
            Add([.. input[..pos], .. to, .. input[pos..]], seen, result, max);
            int next = input[(pos + 1)..].IndexOf(from);
            pos = next < 0 ? -1 : pos + 1 + next;
        }
        return found;
    }

    private static void Add(byte[] candidate, HashSet<ulong> seen, List<byte[]> result, int max)
    {
        if (result.Count < max && seen.Add(Hash(candidate)))
            result.Add(candidate);
    }

    private static byte[] Utf8(byte[] utf16) =>
        Encoding.UTF8.GetBytes(Encoding.Unicode.GetString(utf16));

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
    internal static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in bytes)
            h = (h ^ b) * 1099511628211UL;
        return h ^ (ulong)bytes.Length;
    }

    /// <summary>The input's 1, 2, 4 and 8-byte values in both byte orders, each with its first places.</summary>
    private sealed class InputIndex
    {
        private readonly Dictionary<(int, bool, ulong), List<int>> _places = [];

        public InputIndex(ReadOnlySpan<byte> input)
        {
            for (int width = 1; width <= 8; width *= 2)
                for (int order = 0; order < (width == 1 ? 1 : 2); order++)
                    for (int pos = 0; pos + width <= input.Length; pos++)
                    {
                        var key = (width, order == 1, Mutators.ReadUInt(input.Slice(pos, width), order == 1));
                        if (!_places.TryGetValue(key, out var list))
                            _places[key] = list = [];
                        if (list.Count < MaxPlacesPerValue)
                            list.Add(pos);
                    }
        }

        public IReadOnlyList<int> Places(int width, bool bigEndian, ulong value) =>
            _places.TryGetValue((width, bigEndian, value), out var list) ? list : [];
    }
}
