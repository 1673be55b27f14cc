namespace Kcov.Coverage;

/// <summary>One outcome of a conditional branch or switch (lcov's BRDA line).</summary>
/// <param name="Line">The source line of the branch instruction.</param>
/// <param name="BranchSite">The block site that ends in the branch: lcov's block number.</param>
/// <param name="Outcome">The outcome's number (0: fall-through, then each target).</param>
/// <param name="Taken">How often it was taken, or null when the branch itself never ran (lcov's '-').</param>
public readonly record struct BranchCoverage(int Line, int BranchSite, int Outcome, long? Taken);
