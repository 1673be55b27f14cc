namespace Kcov.Fuzzing.Feedback;

/// <summary>The features seen so far: a bitmap over the 24-bit feature ids of <see cref="Signal"/>.</summary>
internal sealed class FeatureSet
{
    private readonly ulong[] _bits = new ulong[(1 << Signal.FeatureBits) / 64];

    /// <summary>Distinct features seen ("ft:").</summary>
    public int Count { get; private set; }

    /// <summary>Distinct PC features seen ("cov:").</summary>
    public int PcCount { get; private set; }

    public bool Contains(uint feature) => (_bits[feature >> 6] & (1UL << (int)(feature & 63))) != 0;

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
        return true;
    }
}
