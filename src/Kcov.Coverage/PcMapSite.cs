namespace Kcov.Coverage;

/// <summary>One instrumented site of a module; its index in <see cref="PcMap.Sites"/> is the low half of its PC.</summary>
/// <param name="Kind">Block, comparison or switch.</param>
/// <param name="Method">Index into <see cref="PcMap.Methods"/>.</param>
/// <param name="ILOffset">Offset of the site's instruction in the ORIGINAL method body (as ildasm shows the input).</param>
/// <param name="Document">Index into <see cref="PcMap.Documents"/>, or -1 when no PDB gave a location.</param>
/// <param name="Line">1-based source line, or 0 when unknown.</param>
/// <param name="Column">1-based source column, or 0 when unknown.</param>
public readonly record struct PcMapSite(SiteKind Kind, int Method, int ILOffset, int Document, int Line, int Column)
{
    /// <summary>Whether a PDB gave this site a source line.</summary>
    public bool HasLocation => Document >= 0 && Line > 0;
}
