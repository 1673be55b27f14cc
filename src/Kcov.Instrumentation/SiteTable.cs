using Kcov.Coverage;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// Hands out site indices in instrumentation order (types, methods and instructions in metadata
/// order, so the same input always gives the same PCs) and records what the PC map says about each.
/// </summary>
internal sealed class SiteTable
{
    private readonly uint _moduleId;
    private readonly List<PcMapSite> _sites = [];
    private readonly List<PcMapSpan> _spans = [];
    private readonly List<PcMapEdge> _edges = [];
    /// <summary>The current method's block sites by original offset, for its spans and edges.</summary>
    private readonly Dictionary<int, int> _blockAt = [];
    private readonly List<PcMapMethod> _methods = [];
    private readonly List<string> _documents = [];
    private readonly Dictionary<string, int> _documentIndex = new(StringComparer.Ordinal);
    private MethodDefinition? _currentMethod;
    private SourceLocator? _locator;
    /// <summary>The method the last entry of _methods describes: a method gets an entry with its first site only.</summary>
    private MethodDefinition? _lastMethod;

    public SiteTable(uint moduleId) => _moduleId = moduleId;

    public int BlockSites { get; private set; }
    public int CmpSites { get; private set; }
    public int SwitchSites { get; private set; }

    /// <summary>Starts recording sites of <paramref name="method"/>; call before its body changes.</summary>
    public void BeginMethod(MethodDefinition method)
    {
        _currentMethod = method;
        _locator = new SourceLocator(method);
        _blockAt.Clear();
    }

    /// <summary>
    /// Records, for the current method's block sites, the source lines of each block's IL range and the
    /// control-flow edges between them (<paramref name="flow"/> is the input's). Call after its sites were added.
    /// </summary>
    public void EndMethod(ControlFlow flow)
    {
        foreach (var block in flow.Blocks)
        {
            if (!_blockAt.TryGetValue(block.Start, out int site))
                continue;
            var spans = _locator!.PointsIn(block.Start, block.End)
                .Select(p => new PcMapSpan(site, DocumentIndex(p.Document), p.StartLine, Math.Max(p.StartLine, p.EndLine)))
                .Distinct().OrderBy(p => p.StartLine).ThenBy(p => p.EndLine);
            _spans.AddRange(spans);
            if (block.Entered)
                _edges.Add(new PcMapEdge(PcMapEdge.External, site, 0, false, 0));
            int line = block.Successors.Any(s => s.IsBranch) ? _locator.Locate(block.LastOffset).Line : 0;
            foreach (var successor in block.Successors)
                if (_blockAt.TryGetValue(successor.Start, out int to))
                    _edges.Add(new PcMapEdge(site, to, successor.IsBranch ? line : 0, successor.IsBranch, successor.Outcome));
        }
    }

    /// <summary>A new site at <paramref name="originalOffset"/> of the current method; returns its PC.</summary>
    public ulong Add(SiteKind kind, int originalOffset)
    {
        var method = _currentMethod ?? throw new InvalidOperationException("BeginMethod first");
        if (!ReferenceEquals(_lastMethod, method))
        {
            var (ownerType, ownerName) = CodeOwner.Of(method);
            _methods.Add(new PcMapMethod(method.MetadataToken.ToInt32(), CodeOwner.TypeName(method.DeclaringType), method.Name,
                "(" + string.Join(",", method.Parameters.Select(p => p.ParameterType.FullName)) + ")",
                CodeOwner.TypeName(ownerType), ownerName));
            _lastMethod = method;
        }
        var (document, line, column) = _locator!.Locate(originalOffset);
        int documentIndex = document is null ? -1 : DocumentIndex(document);
        if (kind == SiteKind.Block)
            _blockAt[originalOffset] = _sites.Count;
        switch (kind)
        {
            case SiteKind.Block: BlockSites++; break;
            case SiteKind.Cmp: CmpSites++; break;
            case SiteKind.Switch: SwitchSites++; break;
        }
        _sites.Add(new PcMapSite(kind, _methods.Count - 1, originalOffset, documentIndex, line, column));
        return SiteId.Pc(_moduleId, _sites.Count - 1);
    }

    private int DocumentIndex(Document document)
    {
        if (!_documentIndex.TryGetValue(document.Url, out int index))
        {
            index = _documents.Count;
            _documents.Add(document.Url);
            _documentIndex.Add(document.Url, index);
        }
        return index;
    }

    public int Count => _sites.Count;

    public PcMap ToMap(ModuleDefinition module, Guid inputMvid, TraceModes modes) =>
        new(_moduleId, module.Assembly?.Name.Name ?? module.Name, module.Name, inputMvid, module.Mvid,
            modes.HasFlag(TraceModes.Pc), modes.HasFlag(TraceModes.Cmp), _documents, _methods, _sites, _spans, _edges);
}
