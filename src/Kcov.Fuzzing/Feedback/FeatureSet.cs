namespace Kcov.Fuzzing.Feedback;

/// <summary>The features seen so far: a bitmap over the 24-bit feature ids of <see cref="Signal"/>.</summary>
internal sealed class FeatureSet
{
    private readonly ulong[] _bits = new ulong[(1 << Signal.FeatureBits) / 64];

    /// <summary>Distinct features seen ("ft:").</summary>
    public int Count { get; private set; }

    /// <summary>Distinct PC features seen ("cov:").</summary>
    public int PcCount { get; private set; }

    private readonly ulong[] _edges = new ulong[(1 << 20) / 64];

    /// <summary>Distinct edges seen, whatever their hit counts (the edge features without their buckets).</summary>
    public int EdgeCount { get; private set; }

    /// <summary>Adds a feature; true if it was new.</summary>
    public bool Add(uint feature)
    {
        ref ulong word = ref _bits[feature >> 6];
        ulong bit = 1UL << (int)(feature & 63);
        if ((word & bit) != 0)
            return false;
        word |= bit;
        Count++;
        if (Signal.IsPcFeature(feature))
            PcCount++;
        if (Signal.IsEdgeFeature(feature))
        {
            uint edge = (feature >> 3) & 0xFFFFF;
            ref ulong e = ref _edges[edge >> 6];
            ulong b = 1UL << (int)(edge & 63);
            if ((e & b) == 0)
            {
                e |= b;
                EdgeCount++;
            }
        }
        return true;
    }
}
