using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// C# source compiled at test time with the pinned Roslyn (deterministic, so its IL and MVID, and
/// hence the PCs of its instrumented copy, are the same on every run).
/// </summary>
internal static class Snippet
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is var f && (f.StartsWith("System.", StringComparison.Ordinal) || f is "netstandard.dll" or "mscorlib.dll"))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)),
    ]);

    /// <summary>Compiles <paramref name="source"/> into <paramref name="directory"/>/<paramref name="name"/>.dll with a portable PDB.</summary>
    public static string Compile(string source, string directory, string name = "Snippet", bool embedPdb = false,
        OptimizationLevel optimization = OptimizationLevel.Release, bool referenceAssembly = false)
    {
        Directory.CreateDirectory(directory);
        string sourcePath = Path.Combine(directory, name + ".cs");
        File.WriteAllText(sourcePath, source);
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path: sourcePath,
            encoding: System.Text.Encoding.UTF8);
        var compilation = CSharpCompilation.Create(name, [tree], References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: optimization,
                allowUnsafe: true, deterministic: true, nullableContextOptions: NullableContextOptions.Disable));
        string dll = Path.Combine(directory, name + ".dll");
        string pdb = Path.Combine(directory, name + ".pdb");
        using var peStream = new MemoryStream();
        using var pdbStream = new MemoryStream();
        var emit = new EmitOptions(debugInformationFormat: embedPdb ? DebugInformationFormat.Embedded : DebugInformationFormat.PortablePdb,
            pdbFilePath: embedPdb ? null : pdb, metadataOnly: referenceAssembly, includePrivateMembers: !referenceAssembly);
        var result = compilation.Emit(peStream, embedPdb || referenceAssembly ? null : pdbStream, options: emit);
        if (!result.Success)
            throw new InvalidOperationException("snippet does not compile:\n" + string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        File.WriteAllBytes(dll, peStream.ToArray());
        if (!embedPdb && !referenceAssembly)
            File.WriteAllBytes(pdb, pdbStream.ToArray());
        return dll;
    }
}
