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

    /// <summary>
    /// What the trace being read already said about one PC: the slot of its key and of the edge from
    /// the PC before it last time, valid while their epoch is the current one. A cache in front of the
    /// slot table, which holds every key: a PC seen again after the slots moved is looked up there.
    /// </summary>
    private struct Site
    {
        public uint PcEpoch, EdgeEpoch;
        public int PcSlot, EdgeSlot;
        public ulong Prev;
    }

    /// <summary>
    /// Sites cached per module (24 bytes each, at most 6 MiB a module): PCs past it (a module of more
    /// sites, or PCs that are not an instrumenter's) go to the slot table only, which gives the same features.
    /// </summary>
    private const uint MaxSites = 1 << 18;
    private readonly Dictionary<uint, Site[]> _sites = [];
    private uint _epoch;

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
        NextEpoch();
        // A trace's keys repeat (loops, calls: on Markdig 80% of them once inputs are a few hundred
        // bytes), so the usual key is found through its PC's site (the PC is a module's id and a dense
        // site index) with no hashing; keys are hashed into feature ids once per distinct key, at the end.
        int touched = 0;
        ulong prev = 0;
        uint module = 0;
        Site[] sites = [];
        foreach (ulong pc in area.Slice(1, (int)n))
        {
            if ((uint)(pc >> 32) != module || (uint)pc >= (uint)sites.Length)
                sites = SitesFor(pc, out module);
            if ((uint)pc >= (uint)sites.Length)
            {
                // Not a site of a module: no cache.
                Add(pc, edge: false, ref touched);
                if (edges)
                    Add(prev * 0x9E3779B97F4A7C15UL + pc, edge: true, ref touched);
                prev = pc;
                continue;
            }
            ref Site site = ref sites[(uint)pc];
            if (site.PcEpoch != _epoch)
            {
                site.PcSlot = Add(pc, edge: false, ref touched);
                site.PcEpoch = _epoch;
            }
            if (!edges)
                continue;
            if (site.EdgeEpoch == _epoch && site.Prev == prev)
            {
                _slots[site.EdgeSlot].Count++;
            }
            else
            {
                site.EdgeSlot = Add(prev * 0x9E3779B97F4A7C15UL + pc, edge: true, ref touched);
                site.EdgeEpoch = _epoch;
                site.Prev = prev;
            }
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

    /// <summary>The sites of <paramref name="pc"/>'s module, grown to hold its index if that is below <see cref="MaxSites"/>.</summary>
    private Site[] SitesFor(ulong pc, out uint module)
    {
        module = (uint)(pc >> 32);
        if (!_sites.TryGetValue(module, out var sites))
            sites = [];
        uint index = (uint)pc;
        if (index >= sites.Length && index < MaxSites)
        {
            Array.Resize(ref sites, (int)Math.Max(1024, System.Numerics.BitOperations.RoundUpToPowerOf2(index + 1)));
            _sites[module] = sites;
        }
        return sites;
    }

    /// <summary>A new epoch: what the sites say about earlier traces, or about slots that moved, no longer holds.</summary>
    private void NextEpoch()
    {
        if (++_epoch != 0)
            return;
        foreach (var sites in _sites.Values)
            Array.Clear(sites);
        _epoch = 1;
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

    /// <summary>Counts one hit of a key; returns its slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Add(ulong key, bool edge, ref int touched)
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
                    return Grow(touched, i);
                return i;
            }
            if (slot.Key == key && slot.Edge == edge)
            {
                slot.Count++;
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// <summary>
    /// The table is half full: twice the size, the keys so far moved over in the order they came
    /// (the features come out in first-hit order whatever the table's size); returns where
    /// <paramref name="slotOf"/> went. The table follows the distinct keys of a trace, not its
    /// length: a long trace (a loop) may have few.
    /// </summary>
    private int Grow(int touched, int slotOf)
    {
        var slots = _slots;
        var order = _touched;
        _slots = new Slot[slots.Length * 2];
        _shift--;
        _touched = new int[slots.Length];
        _features = new uint[slots.Length];
        int mask = _slots.Length - 1;
        int moved = -1;
        for (int t = 0; t < touched; t++)
        {
            ref Slot old = ref slots[order[t]];
            int i = (int)((old.Key * 0x9E3779B97F4A7C15UL) >> _shift);
            while (_slots[i].Count != 0)
                i = (i + 1) & mask;
            _slots[i] = old;
            _touched[t] = i;
            if (order[t] == slotOf)
                moved = i;
        }
        // The sites' slots are the old table's.
        NextEpoch();
        return moved;
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
