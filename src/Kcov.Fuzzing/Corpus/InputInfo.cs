namespace Kcov.Fuzzing.Corpus;

/// <summary>An input of the corpus and what the corpus knows about it.</summary>
internal sealed class InputInfo(byte[] data)
{
    public byte[] Data { get; } = data;

    /// <summary>Features for which this is the smallest input seen; at 0 it leaves the corpus.</summary>
    public int OwnedFeatures { get; set; }

    /// <summary>Position in the corpus list (for O(1) removal); -1 once removed.</summary>
    public int Index { get; set; } = -1;

    /// <summary>Whether the comparison-hints pass has run on this input (in this executor or, told by the supervisor, in an earlier one).</summary>
    public bool HintsDone { get; set; }

    /// <summary>A hash of <see cref="Data"/> (FNV-1a), by which executor and supervisor name the input as a parent.</summary>
    public ulong Hash { get; } = Mutation.CmpHints.Hash(data);

    /// <summary>Entropic schedule: hits of its mutants on the campaign's rare features (null until one).</summary>
    public Dictionary<uint, ushort>? RareHits { get; set; }

    /// <summary>Entropic schedule: executions of mutants of this input.</summary>
    public long ExecutedMutants { get; set; }

    /// <summary>Entropic schedule: the last energy computed (-1: never), and whether it is out of date.</summary>
    public double Energy { get; set; } = -1;

    public bool EnergyStale { get; set; }

    /// <summary>Some input derived from this one hung: its children run under the short timeout, and it is picked less.</summary>
    public bool HangParent { get; set; }
}
