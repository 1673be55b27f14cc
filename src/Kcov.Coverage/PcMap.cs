namespace Kcov.Coverage;

/// <summary>
/// Everything kcov's addr2line needs for one instrumented module: for every site (indexed by the
/// low half of its PC) its kind, method, original IL offset and source location. Written beside
/// the instrumented assembly as <c>&lt;file name without extension&gt;.kcovmap</c>; the format is
/// documented in docs/pcmap.md and read and written only by <see cref="PcMapFormat"/>.
/// </summary>
public sealed class PcMap
{
    /// <summary>File name extension of PC maps.</summary>
    public const string Extension = ".kcovmap";

    private readonly PcMapSite[] _sites;
    private readonly PcMapSpan[] _spans;
    private readonly PcMapEdge[] _edges;
    /// <summary>Site i's spans are _spans[_spanStart[i].._spanStart[i + 1]].</summary>
    private readonly int[] _spanStart;

    public PcMap(uint moduleId, string assemblyName, string moduleName, Guid inputMvid, Guid outputMvid,
        bool tracePc, bool traceCmp, IReadOnlyList<string> documents, IReadOnlyList<PcMapMethod> methods,
        IReadOnlyList<PcMapSite> sites, IReadOnlyList<PcMapSpan>? spans = null, IReadOnlyList<PcMapEdge>? edges = null)
    {
        if (moduleId == 0)
            throw new ArgumentOutOfRangeException(nameof(moduleId), "module id 0 is reserved");
        ModuleId = moduleId;
        AssemblyName = assemblyName;
        ModuleName = moduleName;
        InputMvid = inputMvid;
        OutputMvid = outputMvid;
        TracePc = tracePc;
        TraceCmp = traceCmp;
        Documents = documents;
        Methods = methods;
        _sites = sites as PcMapSite[] ?? [.. sites];
        foreach (var site in _sites)
        {
            if ((uint)site.Method >= (uint)methods.Count || site.Document < -1 || site.Document >= documents.Count)
                throw new ArgumentException($"site {site} refers to a method or document that is not in the map");
        }
        _spans = [.. spans ?? []];
        _spanStart = new int[_sites.Length + 1];
        for (int i = 0; i < _spans.Length; i++)
        {
            var span = _spans[i];
            if ((uint)span.Site >= (uint)_sites.Length || _sites[span.Site].Kind != SiteKind.Block || (uint)span.Document >= (uint)documents.Count
                || span.StartLine < 1 || span.EndLine < span.StartLine || (i > 0 && span.Site < _spans[i - 1].Site))
                throw new ArgumentException($"span {span} is not a line range of a block site in the map, in site order");
            _spanStart[span.Site + 1]++;
        }
        for (int i = 0; i < _sites.Length; i++)
            _spanStart[i + 1] += _spanStart[i];
        _edges = [.. edges ?? []];
        foreach (var edge in _edges)
        {
            if ((edge.From != PcMapEdge.External && !IsBlock(edge.From)) || !IsBlock(edge.To)
                || (edge.From != PcMapEdge.External && _sites[edge.From].Method != _sites[edge.To].Method))
                throw new ArgumentException($"edge {edge} does not join two block sites of one method");
        }
    }

    private bool IsBlock(int site) => (uint)site < (uint)_sites.Length && _sites[site].Kind == SiteKind.Block;

    /// <summary>The line spans of every block site, in site order (none in a map without sequence points).</summary>
    public ReadOnlySpan<PcMapSpan> Spans => _spans;

    /// <summary>The lines block site <paramref name="site"/> covers.</summary>
    public ReadOnlySpan<PcMapSpan> SpansOf(int site) => _spans.AsSpan(_spanStart[site], _spanStart[site + 1] - _spanStart[site]);

    /// <summary>The control-flow edges between block sites, method by method.</summary>
    public ReadOnlySpan<PcMapEdge> Edges => _edges;

    /// <summary>The high half of every PC of this module.</summary>
    public uint ModuleId { get; }

    /// <summary>Simple name of the instrumented assembly.</summary>
    public string AssemblyName { get; }

    /// <summary>File name of the instrumented module, e.g. <c>Markdig.dll</c>.</summary>
    public string ModuleName { get; }

    /// <summary>MVID of the module before instrumentation (the identity <see cref="ModuleId"/> is derived from).</summary>
    public Guid InputMvid { get; }

    /// <summary>MVID of the instrumented module: tells which build of the output this map describes.</summary>
    public Guid OutputMvid { get; }

    /// <summary>Whether block sites call <c>Trace.Pc</c>.</summary>
    public bool TracePc { get; }

    /// <summary>Whether comparison and switch sites call <c>Trace.Cmp*</c>/<c>Trace.Switch</c>.</summary>
    public bool TraceCmp { get; }

    /// <summary>Source document paths, as the PDB spells them.</summary>
    public IReadOnlyList<string> Documents { get; }

    public IReadOnlyList<PcMapMethod> Methods { get; }

    /// <summary>All sites; site i has PC <c>SiteId.Pc(ModuleId, i)</c>.</summary>
    public ReadOnlySpan<PcMapSite> Sites => _sites;

    public int SiteCount => _sites.Length;

    /// <summary>The PC of site <paramref name="index"/>.</summary>
    public ulong PcOf(int index) => SiteId.Pc(ModuleId, index);

    /// <summary>The site a PC names, if the PC belongs to this module and is in range.</summary>
    public bool TryGetSite(ulong pc, out PcMapSite site)
    {
        int index = SiteId.IndexOf(pc);
        if (SiteId.ModuleOf(pc) == ModuleId && (uint)index < (uint)_sites.Length)
        {
            site = _sites[index];
            return true;
        }
        site = default;
        return false;
    }

    /// <summary>The source path of a site, or null.</summary>
    public string? DocumentOf(in PcMapSite site) => site.Document >= 0 ? Documents[site.Document] : null;

    /// <summary>The PC map path for an instrumented assembly path.</summary>
    public static string PathFor(string assemblyPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!, Path.GetFileNameWithoutExtension(assemblyPath) + Extension);

    /// <summary>Reads a PC map file.</summary>
    /// <exception cref="InvalidDataException">The file is not a PC map this version reads; the message says why.</exception>
    public static PcMap Load(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return PcMapFormat.Read(bytes, path);
    }

    /// <summary>Reads a PC map from its bytes; <paramref name="name"/> is used in error messages.</summary>
    public static PcMap Load(ReadOnlySpan<byte> bytes, string name) => PcMapFormat.Read(bytes, name);

    /// <summary>Writes the map atomically to <paramref name="path"/>.</summary>
    public void Save(string path) => AtomicFile.Write(path, Save);

    /// <summary>Writes the map to a stream.</summary>
    public void Save(Stream stream) => PcMapFormat.Write(this, stream);
}
