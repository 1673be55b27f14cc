using System.Runtime.CompilerServices;

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
/// In kcov's unique mode (-kcov_unique) the trace holds each block once, in first-hit order: every
/// hit count is 1, and two consecutive PCs are a block and the block reached for the first time after
/// it, which is a control-flow edge only when the second was first reached from the first.
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

    /// <summary>A distinct key of one trace: a PC, or an edge (two consecutive PCs, combined), with its hits.</summary>
    private struct Slot
    {
        public ulong Key;
        /// <summary>Hits in this trace; 0: the slot is empty.</summary>
        public int Count;
        public bool Edge;
    }

    private Slot[] _slots = new Slot[1 << 12];
    private int _shift = 64 - 12;
    private int[] _touched = new int[1 << 11];
    private uint[] _features = new uint[1 << 11];

    /// <summary>Executions whose trace filled the area (entries were dropped); reported, never ignored.</summary>
    public long Overflows { get; private set; }

    /// <summary>The distinct features of one trace, in the order of their first hit. The span is valid until the next call.</summary>
    /// <param name="area">The area's words: word 0 is the count.</param>
    /// <param name="edges">False: PC features only (-kcov_unique=2, where consecutive PCs are consecutive first hits).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<uint> Collect(ReadOnlySpan<ulong> area, bool edges = true)
    {
        long n = (long)Math.Min(area[0], (ulong)area.Length - 1);
        // Trace.Pc drops an entry when the count would reach the size: a full area lost some.
        if (n >= area.Length - 1)
            Overflows++;
        // Keys are counted raw and hashed into feature ids once per distinct key, at the end: a trace's
        // keys repeat (loops, calls; on Markdig about 1,450 distinct of 3,400), and the hash costs more
        // than the count.
        int touched = 0;
        ulong prev = 0;
        foreach (ulong pc in area.Slice(1, (int)n))
        {
            touched = Add(pc, edge: false, touched);
            if (!edges)
                continue;
            touched = Add(prev * 0x9E3779B97F4A7C15UL + pc, edge: true, touched);
            prev = pc;
        }
        var features = _features.AsSpan(0, touched);
        for (int t = 0; t < features.Length; t++)
        {
            ref Slot slot = ref _slots[_touched[t]];
            uint hash = (uint)(Mix(slot.Key) >> 40);
            features[t] = slot.Edge
                ? EdgeTag | ((hash & 0xFFFFF) << 3) | Bucket(slot.Count)
                : hash & (ValueTag - 1);
            slot = default;
        }
        return features;
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Add(ulong key, bool edge, int touched)
    {
        int mask = _slots.Length - 1;
        // Fibonacci hashing: the top bits of the product depend on every bit of the key.
        int i = (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);
        while (true)
        {
            ref Slot slot = ref _slots[i];
            if (slot.Count == 0)
            {
                slot.Key = key;
                slot.Edge = edge;
                slot.Count = 1;
                _touched[touched] = i;
                if (++touched == _touched.Length)
                    Grow(touched);
                return touched;
            }
            if (slot.Key == key && slot.Edge == edge)
            {
                slot.Count++;
                return touched;
            }
            i = (i + 1) & mask;
        }
    }

    /// <summary>
    /// The table is half full: twice the size, the keys so far moved over in the order they came
    /// (the features come out in first-hit order whatever the table's size). Sized by the distinct
    /// keys of a trace, not its length: a long trace (a loop) has few, and a table sized by the
    /// longest trace of a campaign would make every later lookup a cache miss.
    /// </summary>
    private void Grow(int touched)
    {
        var slots = _slots;
        var order = _touched;
        _slots = new Slot[slots.Length * 2];
        _shift--;
        _touched = new int[slots.Length];
        _features = new uint[slots.Length];
        int mask = _slots.Length - 1;
        for (int t = 0; t < touched; t++)
        {
            ref Slot old = ref slots[order[t]];
            int i = (int)((old.Key * 0x9E3779B97F4A7C15UL) >> _shift);
            while (_slots[i].Count != 0)
                i = (i + 1) & mask;
            _slots[i] = old;
            _touched[t] = i;
        }
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
