namespace Kcov.Coverage;

/// <summary>
/// Source lines a block site covers: one sequence point of the block's IL range (the statement it
/// starts in, and every statement that starts inside it). A block site has one or more spans.
/// </summary>
/// <param name="Site">The block site's index.</param>
/// <param name="Document">Index into <see cref="PcMap.Documents"/>.</param>
/// <param name="StartLine">First line (1-based).</param>
/// <param name="EndLine">Last line (at least <paramref name="StartLine"/>).</param>
public readonly record struct PcMapSpan(int Site, int Document, int StartLine, int EndLine);
