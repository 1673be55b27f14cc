namespace Kcov.Coverage;

/// <summary>Covered and total basic blocks of some part of the code.</summary>
public readonly record struct CoverageCount(int Covered, int Total)
{
    /// <summary>Covered / total, 0 when there is nothing to cover.</summary>
    public double Rate => Total == 0 ? 0 : (double)Covered / Total;

    public static CoverageCount operator +(CoverageCount a, CoverageCount b) => new(a.Covered + b.Covered, a.Total + b.Total);
}
