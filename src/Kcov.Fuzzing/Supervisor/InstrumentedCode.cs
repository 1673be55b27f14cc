using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>Whether the harness process has loaded code that calls Kcov.Runtime: instrumented (or hand-traced) targets.</summary>
internal static class InstrumentedCode
{
    private static readonly HashSet<string> OwnAssemblies = ["Kcov.Runtime", "Kcov.Fuzzing", "Kcov.Coverage", "Kcov.Instrumentation", "dotnet-kcov"];

    /// <summary>
    /// True when an assembly loaded here other than Kcov's own references Kcov.Runtime. The
    /// harness's Main names its target, so the target's assembly is loaded in the supervisor too.
    /// </summary>
    public static bool IsLoaded() =>
        AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => !a.IsDynamic && a.Location.Length > 0 && !OwnAssemblies.Contains(a.GetName().Name ?? ""))
            .Any(a => ReferencesRuntime(a.Location));

    private static bool ReferencesRuntime(string path)
    {
        try
        {
            using var pe = new PEReader(File.OpenRead(path));
            if (!pe.HasMetadata)
                return false;
            var md = pe.GetMetadataReader();
            return md.AssemblyReferences.Any(r => md.GetString(md.GetAssemblyReference(r).Name) == "Kcov.Runtime");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException)
        {
            return false;
        }
    }
}
