using Kcov.Coverage;

namespace Kcov.Instrumentation;

/// <summary>
/// kcov's compiler half for .NET: rewrites an assembly so that its basic blocks call
/// <c>Kcov.Trace.Pc</c> (trace-pc) and its integer comparisons and switches call
/// <c>Kcov.Trace.Cmp*</c>/<c>Switch</c> (trace-cmp), with stable PCs, and writes the PC map that
/// turns those PCs back into methods and source lines.
/// </summary>
public static class AssemblyInstrumenter
{
    /// <summary>
    /// Instruments <paramref name="inputPath"/> into <paramref name="outputDirectory"/>: the assembly under
    /// its own file name, its portable PDB beside it when the input had one beside it or in its NuGet package, its PC map
    /// (<c>&lt;name&gt;.kcovmap</c>), and Kcov.Runtime.dll so that it runs. Every file is written atomically.
    /// </summary>
    /// <exception cref="InstrumentationException">Bad input or options; the message is one line saying what to do.</exception>
    public static InstrumentationResult Instrument(string inputPath, string outputDirectory, InstrumentationOptions options)
    {
        string input = Path.GetFullPath(inputPath);
        string output = Path.GetFullPath(outputDirectory);
        if (string.Equals(Path.GetDirectoryName(input), output.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
            throw new InstrumentationException($"The output directory '{outputDirectory}' is the directory of '{inputPath}'; kcov never overwrites its input: pass another directory with -o.");
        if (File.Exists(output))
            throw new InstrumentationException($"The output directory '{outputDirectory}' is a file; pass a directory with -o.");

        var result = InstrumentToMemory(input, options);
        try
        {
            Directory.CreateDirectory(output);
            string assemblyPath = Path.Combine(output, Path.GetFileName(input));
            string? pdbPath = null;
            if (result.Pdb is not null)
            {
                pdbPath = Path.ChangeExtension(assemblyPath, ".pdb");
                AtomicFile.WriteAllBytes(pdbPath, result.Pdb);
            }
            string mapPath = PcMap.PathFor(assemblyPath);
            result.Map.Save(mapPath);
            AtomicFile.WriteAllBytes(assemblyPath, result.Assembly);
            string runtimePath = CopyRuntime(output);
            return new InstrumentationResult(input, assemblyPath, pdbPath, mapPath, runtimePath, result.Map, result.Statistics, result.Warnings)
            {
                MissingSymbols = result.MissingSymbols,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InstrumentationException($"Cannot write to '{outputDirectory}' ({e.Message}); check that it is writable.", e);
        }
    }

    /// <summary>
    /// Instruments <paramref name="inputPath"/> in memory, for hosts that load the result themselves
    /// (<c>AssemblyLoadContext.LoadFromStream(assembly, pdb)</c>); that host must resolve Kcov.Runtime
    /// to the copy its device lives in.
    /// </summary>
    /// <exception cref="InstrumentationException">Bad input or options; the message is one line saying what to do.</exception>
    public static InstrumentedAssembly InstrumentToMemory(string inputPath, InstrumentationOptions options)
    {
        if (options.Trace == TraceModes.None)
            throw new InstrumentationException("No trace mode selected: use pc, cmp or pc,cmp.");
        // Patterns first: a typo should not wait for a large assembly to be read.
        var exclusions = new Exclusions(options);
        long length = InputCheck.CheckAssemblyFile(inputPath);
        return ModuleRewriter.Rewrite(inputPath, length, options, exclusions);
    }

    /// <summary>The Kcov.Runtime.dll every instrumented module references: this one, the one the tools were built with.</summary>
    public static string RuntimeAssemblyPath => typeof(Trace).Assembly.Location;

    private static string CopyRuntime(string directory)
    {
        string source = RuntimeAssemblyPath;
        string target = Path.Combine(directory, Path.GetFileName(source));
        if (!File.Exists(target) || !File.ReadAllBytes(target).AsSpan().SequenceEqual(File.ReadAllBytes(source)))
            AtomicFile.Copy(source, target);
        return target;
    }
}
