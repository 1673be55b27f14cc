namespace Kcov.Coverage;

/// <summary>
/// kcov's addr2line: turns PCs back into functions and source lines using the PC maps of
/// every instrumented module (one lookup by module id, then an array index).
/// </summary>
public sealed class Symbolizer
{
    private readonly Dictionary<uint, PcMap> _maps = [];

    /// <summary>A symbolizer over the given maps.</summary>
    /// <exception cref="ArgumentException">Two maps share a module id (the same module instrumented twice into one place?).</exception>
    public Symbolizer(IEnumerable<PcMap> maps)
    {
        foreach (var map in maps)
        {
            if (_maps.TryGetValue(map.ModuleId, out var other))
                throw new ArgumentException(
                    $"PC maps of {other.ModuleName} and {map.ModuleName} share module id 0x{map.ModuleId:x8}; keep one map per module in a directory");
            _maps.Add(map.ModuleId, map);
        }
    }

    /// <summary>The loaded maps, ordered by module name.</summary>
    public IReadOnlyList<PcMap> Maps => [.. _maps.Values.OrderBy(m => m.ModuleName, StringComparer.Ordinal)];

    /// <summary>Loads every <c>*.kcovmap</c> in <paramref name="directory"/> (not its subdirectories).</summary>
    /// <exception cref="DirectoryNotFoundException">No such directory.</exception>
    /// <exception cref="InvalidDataException">A map is corrupt, or the directory has none; the message says which.</exception>
    public static Symbolizer LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"PC map directory '{directory}' does not exist; pass the -o directory of `dotnet kcov instrument`.");
        var files = Directory.GetFiles(directory, "*" + PcMap.Extension).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
            throw new InvalidDataException($"'{directory}' has no {PcMap.Extension} files; pass the -o directory of `dotnet kcov instrument`.");
        try
        {
            return new Symbolizer(files.Select(PcMap.Load));
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException(e.Message + ".", e);
        }
    }

    /// <summary>The map and site a PC names.</summary>
    public bool TryResolve(ulong pc, out PcMap? map, out PcMapSite site)
    {
        if (_maps.TryGetValue(SiteId.ModuleOf(pc), out map) && map.TryGetSite(pc, out site))
            return true;
        map = null;
        site = default;
        return false;
    }

    /// <summary>The function and source line of a PC; unknown PCs give <c>??</c>, as addr2line does.</summary>
    public SymbolizedPc Symbolize(ulong pc)
    {
        if (!TryResolve(pc, out var map, out var site))
            return new SymbolizedPc(pc, "??", null, 0, 0, null, default);
        var method = map!.Methods[site.Method];
        return new SymbolizedPc(pc, method.FullName, map.DocumentOf(site), site.Line, site.Column, map, site);
    }
}
