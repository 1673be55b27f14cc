using System.Runtime.CompilerServices;

namespace Kcov.Fuzzing.Corpus;

/// <summary>
/// Per feature seen, its owner (the smallest input that has it) and that owner's length. The corpus
/// looks up every feature of every execution here (is it new? is this input smaller than its owner?),
/// so a slot packs the feature with the owner's length and a lookup reads one 8-byte word. A
/// <c>Dictionary&lt;uint, InputInfo&gt;</c> read its buckets, its entries, the owner and the owner's
/// array for the length: with a bitmap of seen features besides, the corpus cost more per execution
/// than the traced target's run on Markdig (docs/fuzzing.md, "Executions per second").
/// Written by hand: no collection in the BCL stores a value beside its key in one word.
/// </summary>
internal sealed class FeatureOwners
{
    // A slot: the feature + 1 in its low 32 bits (0: empty; feature ids are below 2^24), the
    // owner's length in its high 32. The owner itself sits at the same index of _owners.
    private ulong[] _slots = new ulong[1 << 12];
    private InputInfo?[] _owners = new InputInfo?[1 << 12];
    private int _shift = 32 - 12;

    /// <summary>Features seen.</summary>
    public int Count { get; private set; }

    /// <summary>The length of <paramref name="feature"/>'s owner, or -1 if the feature was never seen.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int OwnerLength(uint feature)
    {
        ulong slot = _slots[Find(feature)];
        return slot == 0 ? -1 : (int)(slot >> 32);
    }

    /// <summary>The owner of <paramref name="feature"/>, or null if the feature was never seen.</summary>
    public InputInfo? Owner(uint feature) => _owners[Find(feature)];

    /// <summary>Makes <paramref name="owner"/> the owner of <paramref name="feature"/>; true if the feature was new.</summary>
    public bool Set(uint feature, InputInfo owner)
    {
        int i = Find(feature);
        bool added = _slots[i] == 0;
        _slots[i] = (ulong)(uint)owner.Data.Length << 32 | (feature + 1);
        _owners[i] = owner;
        if (added && ++Count * 2 > _slots.Length)
            Grow();
        return added;
    }

    /// <summary>Where <paramref name="feature"/> is, or the empty slot where it would go (linear probing, at most half full).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Find(uint feature)
    {
        uint key = feature + 1;
        int mask = _slots.Length - 1;
        // Fibonacci hashing: an edge feature's low bits are its hit-count bucket, so they cannot index the table.
        int i = (int)((key * 0x9E3779B1u) >> _shift);
        while (true)
        {
            ulong slot = _slots[i];
            if (slot == 0 || (uint)slot == key)
                return i;
            i = (i + 1) & mask;
        }
    }

    private void Grow()
    {
        var slots = _slots;
        var owners = _owners;
        _slots = new ulong[slots.Length * 2];
        _owners = new InputInfo?[slots.Length * 2];
        _shift--;
        for (int j = 0; j < slots.Length; j++)
        {
            if (slots[j] == 0)
                continue;
            int i = Find((uint)slots[j] - 1);
            _slots[i] = slots[j];
            _owners[i] = owners[j];
        }
    }
}
