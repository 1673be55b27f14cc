using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;

namespace Kcov.Instrumentation;

/// <summary>
/// Where the portable PDB of an assembly that came from a NuGet package is: the SDK copies a
/// package's dll into bin/ but not its PDB (unless CopyDebugSymbolFilesFromPackages is set), so it
/// is looked for in the package itself, in the global packages folder, found through the
/// application's *.deps.json beside the assembly (the library's name, version, package path and
/// runtime asset path). NuGet never extracts a .snupkg, so only a PDB inside the package counts.
/// Written by hand: no library resolves a deps.json asset back to its package folder.
/// </summary>
internal static class PackageSymbols
{
    /// <summary>The package an assembly came from, and the PDB path beside its dll in the packages folder (which may not exist).</summary>
    public sealed record Package(string Id, string Version, string Folder, string PdbPath);

    /// <summary>NuGet's global packages folder: NUGET_PACKAGES, else ~/.nuget/packages.</summary>
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>
    /// The package that <paramref name="assemblyPath"/>'s file name is a runtime asset of, in any
    /// *.deps.json beside it, or null (a project's own assembly, or no deps.json).
    /// </summary>
    public static Package? Find(string assemblyPath, string packagesFolder)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!;
        string file = Path.GetFileName(assemblyPath);
        foreach (string deps in Directory.EnumerateFiles(directory, "*.deps.json").Order(StringComparer.Ordinal))
        {
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllBytes(deps));
                if (Find(json.RootElement, file, packagesFolder) is { } package)
                    return package;
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // Not ours to judge here: a broken deps.json only means no package is known from it.
            }
        }
        return null;
    }

    private static Package? Find(JsonElement root, string file, string packagesFolder)
    {
        if (!root.TryGetProperty("targets", out var targets) || !root.TryGetProperty("libraries", out var libraries))
            return null;
        foreach (var target in targets.EnumerateObject())
        {
            foreach (var library in target.Value.EnumerateObject())
            {
                if (!library.Value.TryGetProperty("runtime", out var runtime) || runtime.ValueKind != JsonValueKind.Object)
                    continue;
                string? asset = runtime.EnumerateObject().Select(a => a.Name)
                    .FirstOrDefault(a => string.Equals(Path.GetFileName(a), file, StringComparison.OrdinalIgnoreCase));
                if (asset is null || !libraries.TryGetProperty(library.Name, out var info)
                    || !info.TryGetProperty("type", out var type) || type.GetString() != "package")
                    continue;
                int slash = library.Name.IndexOf('/');
                if (slash <= 0)
                    continue;
                string id = library.Name[..slash], version = library.Name[(slash + 1)..];
                string packagePath = info.TryGetProperty("path", out var p) && p.GetString() is { Length: > 0 } given
                    ? given
                    : $"{id.ToLowerInvariant()}/{version.ToLowerInvariant()}";
                string folder = Path.Combine(packagesFolder, packagePath);
                string pdb = Path.ChangeExtension(Path.Combine(folder, asset), ".pdb");
                return new Package(id, version, folder, pdb);
            }
        }
        return null;
    }

    /// <summary>
    /// Null when <paramref name="pdbPath"/> is the portable PDB of <paramref name="assemblyPath"/>
    /// (its id equals the GUID and stamp of the assembly's CodeView debug directory entry), else why not.
    /// A mismatched PDB would put wrong lines on every site, so it is never used.
    /// </summary>
    public static string? Mismatch(string assemblyPath, string pdbPath)
    {
        try
        {
            using var pe = new PEReader(File.OpenRead(assemblyPath));
            var codeViews = pe.ReadDebugDirectory().Where(e => e.Type == DebugDirectoryEntryType.CodeView).ToList();
            if (codeViews.Count == 0)
                return "the assembly has no CodeView debug entry to match a PDB against";
            using var provider = MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(pdbPath));
            if (provider.GetMetadataReader().DebugMetadataHeader is not { } header)
                return "it is not a portable PDB (no #Pdb stream)";
            var id = new BlobContentId(header.Id);
            foreach (var entry in codeViews)
            {
                var data = pe.ReadCodeViewDebugDirectoryData(entry);
                if (data.Guid == id.Guid && entry.Stamp == id.Stamp)
                    return null;
            }
            return "its id differs from the assembly's";
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return $"it is not a portable PDB ({e.Message})";
        }
    }
}
