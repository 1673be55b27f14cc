using Kcov.Coverage;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// libFuzzer's first words, <c>INFO: Loaded N modules (M inline 8-bit counters): ...</c>, for
/// kcov: the instrumented assemblies next to the harness (their PC maps) and their trace-pc
/// sites, the blocks a trace can reach. ClusterFuzz reads M as the target's total number of edges.
/// </summary>
internal static class InstrumentedModules
{
    public static string LoadedLine(string directory)
    {
        IReadOnlyList<PcMap> maps;
        try
        {
            maps = Symbolizer.LoadDirectory(directory).Maps;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            maps = [];
        }
        var blocks = maps.Select(m => (m.AssemblyName, Sites: Blocks(m))).ToList();
        string each = string.Join(", ", blocks.Select(b => $"{b.AssemblyName} ({b.Sites})"));
        return $"Loaded {maps.Count} modules ({blocks.Sum(b => b.Sites)} kcov trace-pc sites){(each.Length > 0 ? $": {each}" : "")}";
    }

    private static int Blocks(PcMap map)
    {
        int n = 0;
        foreach (var site in map.Sites)
            if (site.Kind == SiteKind.Block)
                n++;
        return n;
    }
}
