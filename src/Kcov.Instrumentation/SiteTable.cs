using Kcov.Coverage;
using Mono.Cecil;

namespace Kcov.Instrumentation;

/// <summary>
/// Hands out site indices in instrumentation order (types, methods and instructions in metadata
/// order, so the same input always gives the same PCs) and records what the PC map says about each.
/// </summary>
internal sealed class SiteTable
{
    private readonly uint _moduleId;
    private readonly List<PcMapSite> _sites = [];
    private readonly List<PcMapImplication> _implications = [];
    private readonly List<PcMapMethod> _methods = [];
    private readonly List<string> _documents = [];
    private readonly Dictionary<string, int> _documentIndex = new(StringComparer.Ordinal);
    private MethodDefinition? _currentMethod;
    private SourceLocator? _locator;
    /// <summary>The method the last entry of _methods describes: a method gets an entry with its first site only.</summary>
    private MethodDefinition? _lastMethod;

    public SiteTable(uint moduleId) => _moduleId = moduleId;

    public int BlockSites { get; private set; }
    public int ImpliedBlocks { get; private set; }
    public int CmpSites { get; private set; }
    public int SwitchSites { get; private set; }

    /// <summary>Starts recording sites of <paramref name="method"/>; call before its body changes.</summary>
    public void BeginMethod(MethodDefinition method)
    {
        _currentMethod = method;
        _locator = new SourceLocator(method);
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
        int documentIndex = -1;
        if (document is not null && !_documentIndex.TryGetValue(document.Url, out documentIndex))
        {
            documentIndex = _documents.Count;
            _documents.Add(document.Url);
            _documentIndex.Add(document.Url, documentIndex);
        }
        switch (kind)
        {
            case SiteKind.Block: BlockSites++; break;
            case SiteKind.ImpliedBlock: ImpliedBlocks++; break;
            case SiteKind.Cmp: CmpSites++; break;
            case SiteKind.Switch: SwitchSites++; break;
        }
        _sites.Add(new PcMapSite(kind, _methods.Count - 1, originalOffset, documentIndex, line, column));
        return SiteId.Pc(_moduleId, _sites.Count - 1);
    }

    public int Count => _sites.Count;

    /// <summary>Records that block site <paramref name="implied"/> (pruned) ran whenever block site <paramref name="by"/> did.</summary>
    public void AddImplication(int implied, int by) => _implications.Add(new PcMapImplication(implied, by));

    public PcMap ToMap(ModuleDefinition module, Guid inputMvid, TraceModes modes) =>
        new(_moduleId, module.Assembly?.Name.Name ?? module.Name, module.Name, inputMvid, module.Mvid,
            modes.HasFlag(TraceModes.Pc), modes.HasFlag(TraceModes.Cmp), _documents, _methods, _sites, _implications);
}
