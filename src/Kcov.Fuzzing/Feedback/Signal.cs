namespace Kcov.Fuzzing.Feedback;

/// <summary>
/// Turns one execution's trace (the kcov area: word 0 = count, then PCs) into features,
/// the only form in which coverage reaches the corpus. Features are:
/// <list type="bullet">
/// <item>each PC that ran (the block coverage "cov:" counts);</item>
/// <item>each edge, hashed from two consecutive PCs of the trace as syzkaller does, combined
/// with a bucket of how often it ran in this input (AFL's 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+),
/// so a loop that runs one more time, e.g. one more matching byte of a keyword, is progress.</item>
/// </list>
/// The cost is proportional to the trace length only: a scratch table is cleared through
/// the list of slots it touched, never in full (the whole point of kcov over gcov).
/// Feature ids are 24 bits: below 2^22 a PC, from 2^22 to 2^23 a value-profile feature (-use_value_profile=1:
/// a comparison site with how close its operands were), from 2^23 an edge (20 bits) with its bucket (3 bits).
/// </summary>
internal sealed class Signal
{
    public const int FeatureBits = 24;
    private const uint EdgeTag = 1u << 23;
    private const uint ValueTag = 1u << 22;
    private readonly HashSet<uint> _valueSeen = [];
    private readonly List<uint> _values = [];

    private ulong[] _keys = new ulong[1 << 12];
    private int[] _counts = new int[1 << 12];
    private int[] _touched = new int[1 << 11];
    private uint[] _features = new uint[1 << 11];

    /// <summary>Executions whose trace filled the area (entries were dropped); reported, never ignored.</summary>
    public long Overflows { get; private set; }

    /// <summary>The distinct features of one trace. The span is valid until the next call.</summary>
    /// <param name="area">The area's words: word 0 is the count.</param>
    public ReadOnlySpan<uint> Collect(ReadOnlySpan<ulong> area)
    {
        long n = (long)Math.Min(area[0], (ulong)area.Length - 1);
        // Trace.Pc drops an entry when the count would reach the size: a full area lost some.
        if (n >= area.Length - 1)
            Overflows++;
        EnsureCapacity((int)n);
        int touched = 0;
        ulong prev = 0;
        for (int i = 1; i <= n; i++)
        {
            ulong pc = area[i];
            touched = Add((Mix(pc) & ~1UL) | 1, touched);
            ulong edge = Mix(prev * 0x9E3779B97F4A7C15UL + pc) & ~1UL;
            touched = Add(edge == 0 ? 2 : edge, touched);
            prev = pc;
        }
        for (int t = 0; t < touched; t++)
        {
            int slot = _touched[t];
            ulong key = _keys[slot];
            uint hash = (uint)(key >> 40);
            _features[t] = (key & 1) != 0
                ? hash & (ValueTag - 1)
                : EdgeTag | ((hash & 0xFFFFF) << 3) | Bucket(_counts[slot]);
            _keys[slot] = 0;
            _counts[slot] = 0;
        }
        return _features.AsSpan(0, touched);
    }

    /// <summary>True for a feature that stands for a PC (block).</summary>
    public static bool IsPcFeature(uint feature) => feature < ValueTag;

    /// <summary>True for an edge feature (with its hit-count bucket).</summary>
    public static bool IsEdgeFeature(uint feature) => feature >= EdgeTag;

    /// <summary>
    /// libFuzzer's value profile from a trace-cmp area: per comparison site, how close its operands
    /// were (the number of equal bits of an integer comparison; the length of the common prefix of a
    /// data record's operands), so an input that gets one bit or one character closer is progress.
    /// The list is valid until the next call.
    /// </summary>
    public IReadOnlyList<uint> CollectValues(ReadOnlySpan<ulong> area)
    {
        _valueSeen.Clear();
        _values.Clear();
        long slots = (long)Math.Min(area[0], (ulong)((area.Length - 1) / KcovAbi.WordsPerCmp));
        for (long r = 0; r < slots; r++)
        {
            var record = area.Slice(1 + (int)r * KcovAbi.WordsPerCmp, KcovAbi.WordsPerCmp);
            ulong type = record[0], pc = record[3];
            int closeness;
            if ((type & KcovAbi.CmpData) != 0)
            {
                int extra = KcovAbi.CmpDataExtraSlots(type);
                if (r + 1 + extra > slots)
                    break;
                var payload = System.Runtime.InteropServices.MemoryMarshal.AsBytes(area.Slice(1 + (int)(r + 1) * KcovAbi.WordsPerCmp, extra * KcovAbi.WordsPerCmp));
                r += extra;
                if (record[1] + record[2] > (ulong)payload.Length)
                    continue;
                var a = payload[..(int)record[1]];
                var b = payload[(int)record[1]..(int)(record[1] + record[2])];
                closeness = 65 + Math.Min(a.CommonPrefixLength(b), 62);
            }
            else
            {
                closeness = 64 - System.Numerics.BitOperations.PopCount(record[1] ^ record[2]);
            }
            uint feature = ValueTag | (uint)((Mix(pc) * 128 + (ulong)closeness) & (ValueTag - 1));
            if (_valueSeen.Add(feature))
                _values.Add(feature);
        }
        return _values;
    }

    /// <summary>AFL's hit-count buckets.</summary>
    public static uint Bucket(int hits) => hits switch
    {
        <= 1 => 0,
        2 => 1,
        3 => 2,
        <= 7 => 3,
        <= 15 => 4,
        <= 31 => 5,
        <= 127 => 6,
        _ => 7,
    };

    private int Add(ulong key, int touched)
    {
        int mask = _keys.Length - 1;
        int slot = (int)(key >> 3) & mask;
        while (true)
        {
            ulong k = _keys[slot];
            if (k == key)
            {
                _counts[slot]++;
                return touched;
            }
            if (k == 0)
            {
                _keys[slot] = key;
                _counts[slot] = 1;
                _touched[touched] = slot;
                return touched + 1;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// <summary>At most 2n distinct keys: keep the table at most half full.</summary>
    private void EnsureCapacity(int entries)
    {
        int need = entries * 2;
        if (need * 2 <= _keys.Length && need <= _touched.Length)
            return;
        int size = _keys.Length;
        while (size < need * 2)
            size *= 2;
        _keys = new ulong[size];
        _counts = new int[size];
        _touched = new int[size / 2];
        _features = new uint[size / 2];
    }

    /// <summary>splitmix64's finalizer: spreads PCs (dense site ids) over all bits.</summary>
    internal static ulong Mix(ulong x)
    {
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return x;
    }
}
