namespace Kcov.Fuzzing.Mutation;

/// <summary>What mutators may draw on besides the input: the random source, dictionary tokens, the corpus.</summary>
internal sealed class MutationContext(Random random, IEnumerable<byte[]> tokens, Func<byte[]?> pickOther)
{
    private readonly List<byte[]> _tokens = [.. tokens];

    public Random Random { get; } = random;

    /// <summary>Dictionary tokens (-dict and, with -auto_dict=1, the target's string literals).</summary>
    public IReadOnlyList<byte[]> Tokens => _tokens;

    public void AddTokens(IEnumerable<byte[]> tokens) => _tokens.AddRange(tokens);

    /// <summary>Another corpus input, for splicing; null when -cross_over=0 or the corpus has none.</summary>
    public byte[]? PickOther() => pickOther();
}
