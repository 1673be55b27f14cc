namespace Kcov.Coverage;

/// <summary>What addr2line says about one PC: the function, then file:line.</summary>
/// <param name="Pc">The PC that was looked up.</param>
/// <param name="Function"><c>Namespace.Type.Method</c>, or <c>??</c> for a PC no map knows.</param>
/// <param name="File">Source path from the PDB, or null when unknown.</param>
/// <param name="Line">1-based line, 0 when unknown.</param>
/// <param name="Column">1-based column, 0 when unknown.</param>
/// <param name="Map">The map that knows the PC, or null.</param>
/// <param name="Site">The site the PC names (default when <paramref name="Map"/> is null).</param>
public sealed record SymbolizedPc(ulong Pc, string Function, string? File, int Line, int Column, PcMap? Map, PcMapSite Site)
{
    /// <summary>Whether some loaded map knows this PC.</summary>
    public bool Known => Map is not null;

    /// <summary>addr2line -f's two lines: <c>function</c> and <c>file:line</c> (<c>??</c> and <c>??:0</c> when unknown).</summary>
    public string ToAddr2Line() => $"{Function}\n{File ?? "??"}:{Line}";
}
