namespace Kcov.Coverage;

/// <summary>
/// Block site <paramref name="Implied"/> (a pruned block, <see cref="SiteKind.ImpliedBlock"/>) ran
/// whenever block site <paramref name="By"/> (a probed block) ran.
/// </summary>
public readonly record struct PcMapImplication(int Implied, int By);
