namespace Kcov.Coverage;

/// <summary>
/// A control-flow edge between two block sites of one method, from the original IL: fall-through,
/// unconditional jumps and leaves (<see cref="IsBranch"/> false), and the outcomes of a conditional
/// branch or switch (true). An edge from <see cref="External"/> marks a block entered from outside
/// the method's flow: its entry, exception handlers and filters.
/// </summary>
/// <param name="From">The block site the edge leaves (or <see cref="External"/>).</param>
/// <param name="To">The block site it enters.</param>
/// <param name="Line">For a branch outcome, the source line of the branch instruction; else 0.</param>
/// <param name="IsBranch">Whether this is one outcome of a conditional branch or switch.</param>
/// <param name="Outcome">The outcome's number among its branch's outcomes (0: fall-through, then the targets in order).</param>
public readonly record struct PcMapEdge(int From, int To, int Line, bool IsBranch, int Outcome)
{
    /// <summary>The <see cref="From"/> of an entry edge.</summary>
    public const int External = -1;
}
