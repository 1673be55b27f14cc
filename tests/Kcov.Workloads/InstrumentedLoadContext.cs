using System.Reflection;
using System.Runtime.Loader;

namespace Kcov.Workloads;

/// <summary>
/// Loads instrumented assemblies from a directory, each name to its file there, and everything else
/// (Kcov.Runtime above all) from the default context, so that instrumented code traces into the very
/// Kcov.Runtime whose device the test enabled.
/// </summary>
public sealed class InstrumentedLoadContext : AssemblyLoadContext
{
    private readonly Dictionary<string, string> _files;

    public InstrumentedLoadContext(IEnumerable<string> assemblyPaths) : base(isCollectible: true) =>
        _files = assemblyPaths.ToDictionary(p => AssemblyName.GetAssemblyName(p).Name!, p => p);

    protected override Assembly? Load(AssemblyName name) =>
        name.Name is { } n && _files.TryGetValue(n, out var path) ? LoadFromAssemblyPath(path) : null;
}
