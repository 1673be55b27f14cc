using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// The source line of an IL offset of one method, from its sequence points (read before the body
/// is rewritten). An offset belongs to the last sequence point at or before it; when that one is
/// hidden (compiler plumbing, 0xfeefee) the next visible one is taken, else the previous one, so
/// that every site of a method with any source has a real line.
/// </summary>
internal sealed class SourceLocator
{
    private readonly (int Offset, SequencePoint Point)[] _points;

    /// <summary>Snapshots the sequence points; call before the body changes (offsets are the original ones until it is written).</summary>
    public SourceLocator(MethodDefinition method) =>
        _points = method.DebugInformation.HasSequencePoints
            ? [.. method.DebugInformation.SequencePoints.Select(p => (p.Offset, p)).OrderBy(p => p.Offset)]
            : [];

    public (Document? Document, int Line, int Column) Locate(int offset)
    {
        if (_points.Length == 0)
            return (null, 0, 0);
        int lo = 0, hi = _points.Length - 1, at = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (_points[mid].Offset <= offset) { at = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        for (int i = Math.Max(at, 0); i < _points.Length; i++)
            if (!_points[i].Point.IsHidden)
                return Of(_points[i].Point);
        for (int i = at - 1; i >= 0; i--)
            if (!_points[i].Point.IsHidden)
                return Of(_points[i].Point);
        return (null, 0, 0);
    }

    private static (Document?, int, int) Of(SequencePoint p) => (p.Document, p.StartLine, p.StartColumn);
}
