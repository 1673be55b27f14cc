namespace Kcov.Fuzzing.Corpus;

/// <summary>An input of the corpus and what the corpus knows about it.</summary>
internal sealed class InputInfo(byte[] data)
{
    public byte[] Data { get; } = data;

    /// <summary>Features for which this is the smallest input seen; at 0 it leaves the corpus.</summary>
    public int OwnedFeatures { get; set; }

    /// <summary>Position in the corpus list (for O(1) removal); -1 once removed.</summary>
    public int Index { get; set; } = -1;

    /// <summary>Whether the comparison-hints pass has run on this input.</summary>
    public bool HintsDone { get; set; }
}
