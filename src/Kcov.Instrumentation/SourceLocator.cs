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

    /// <summary>
    /// Snapshots the sequence points; call before the body changes (offsets are the original ones until it is written).
    /// An async or iterator kickoff method has none: its sites take the first line of its state machine's MoveNext,
    /// the method's opening brace.
    /// </summary>
    public SourceLocator(MethodDefinition method)
    {
        if (method.DebugInformation.HasSequencePoints)
            _points = [.. method.DebugInformation.SequencePoints.Select(p => (p.Offset, p)).OrderBy(p => p.Offset)];
        else
            _points = FirstLineOf(method, depth: 0) is { } first ? [(0, first)] : [];
    }

    /// <summary>
    /// Where code without sequence points of its own belongs: a kickoff method to its state machine's first
    /// line, compiler plumbing (SetStateMachine, IEnumerator members...) to the user method it was generated for.
    /// </summary>
    private static SequencePoint? FirstLineOf(MethodDefinition method, int depth)
    {
        if (method.DebugInformation.SequencePoints.FirstOrDefault(p => !p.IsHidden) is { } own)
            return own;
        if (depth > 2)
            return null;
        if (StateMachineOf(method)?.Methods.FirstOrDefault(m => m.Name == "MoveNext") is { } moveNext)
            return FirstLineOf(moveNext, depth + 1);
        var (ownerType, ownerName) = CodeOwner.Of(method);
        if (ownerType == method.DeclaringType && ownerName == method.Name)
            return null;
        return ownerType.Methods.Where(m => m.Name == ownerName && m != method)
            .Select(m => FirstLineOf(m, depth + 1)).FirstOrDefault(p => p is not null);
    }

    private static TypeDefinition? StateMachineOf(MethodDefinition method) =>
        method.CustomAttributes
            .Where(a => a.AttributeType.Name.EndsWith("StateMachineAttribute", StringComparison.Ordinal) && a.ConstructorArguments.Count == 1)
            .Select(a => a.ConstructorArguments[0].Value as TypeReference)
            .FirstOrDefault(t => t is not null)?.Resolve();

    public (Document? Document, int Line, int Column) Locate(int offset) =>
        PointAt(offset) is { } p ? Of(p) : (null, 0, 0);

    /// <summary>
    /// The statements the IL range [<paramref name="start"/>, <paramref name="end"/>) is part of: the one in force at
    /// its start, unless that is hidden (compiler plumbing belongs to no line), and every visible one starting inside it.
    /// </summary>
    public IEnumerable<SequencePoint> PointsIn(int start, int end)
    {
        int at = LastAtOrBefore(start);
        int inForce = at >= 0 ? _points[at].Offset : -1;
        foreach (var (offset, point) in _points)
        {
            if (offset >= end)
                yield break;
            if (!point.IsHidden && (offset == inForce || offset > start))
                yield return point;
        }
    }

    /// <summary>The index of the last sequence point at or before <paramref name="offset"/>, or -1.</summary>
    private int LastAtOrBefore(int offset)
    {
        int lo = 0, hi = _points.Length - 1, at = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (_points[mid].Offset <= offset) { at = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return at;
    }

    private SequencePoint? PointAt(int offset)
    {
        if (_points.Length == 0)
            return null;
        int at = LastAtOrBefore(offset);
        for (int i = Math.Max(at, 0); i < _points.Length; i++)
            if (!_points[i].Point.IsHidden)
                return _points[i].Point;
        for (int i = at - 1; i >= 0; i--)
            if (!_points[i].Point.IsHidden)
                return _points[i].Point;
        return null;
    }

    private static (Document?, int, int) Of(SequencePoint p) => (p.Document, p.StartLine, p.StartColumn);
}
