namespace Kcov.Fuzzing.Mutation;

/// <summary>What mutators may draw on besides the input: the random source, dictionary tokens, the corpus.</summary>
internal sealed class MutationContext(Random random, IEnumerable<byte[]> tokens, Func<byte[]?> pickOther)
{
    private readonly List<byte[]> _tokens = [.. tokens];

    public Random Random { get; } = random;

    /// <summary>Dictionary tokens (-dict and, with -auto_dict=1, the target's string literals).</summary>
    public IReadOnlyList<byte[]> Tokens => _tokens;

    public void AddTokens(IEnumerable<byte[]> tokens) => _tokens.AddRange(tokens);

    private readonly List<byte[]> _compared = [];
    private readonly HashSet<string> _comparedSeen = [];

    /// <summary>
    /// Values the target was seen comparing against (data records of the call-site hooks): the
    /// campaign's dictionary of compared values, libFuzzer's table of recent compares made persistent.
    /// </summary>
    public IReadOnlyList<byte[]> Compared => _compared;

    /// <summary>Adds compared values not yet known; returns those that were new.</summary>
    public List<byte[]> AddCompared(IEnumerable<byte[]> values)
    {
        var added = new List<byte[]>();
        foreach (var v in values)
            if (v.Length is > 0 and <= 128 && _comparedSeen.Add(Convert.ToHexString(v)))
            {
                _compared.Add(v);
                added.Add(v);
            }
        return added;
    }

    /// <summary>Another corpus input, for splicing; null when -cross_over=0 or the corpus has none.</summary>
    public byte[]? PickOther() => pickOther();
}
