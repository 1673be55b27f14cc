using Kcov.Coverage;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// One module, read (with its portable PDB: beside, embedded, or in its NuGet package), checked, rewritten method by method
/// in metadata order (types depth-first, then their methods), marked as instrumented, and written back
/// with its PDB kept the way it came.
/// </summary>
internal static class ModuleRewriter
{
    /// <summary>The assembly-level AssemblyMetadataAttribute key that marks instrumented modules.</summary>
    public const string MarkerKey = "Kcov.Instrumented";

    private enum Symbols { None, Beside, Embedded }

    public static InstrumentedAssembly Rewrite(string path, long inputBytes, InstrumentationOptions options, Exclusions exclusions)
    {
        var warnings = new List<string>();
        using var resolver = new DefaultAssemblyResolver();
        foreach (var dir in resolver.GetSearchDirectories())
            resolver.RemoveSearchDirectory(dir);
        resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        resolver.AddSearchDirectory(Path.GetDirectoryName(typeof(object).Assembly.Location)!);

        using var module = Read(path, resolver, options, out var symbols, out string? missingSymbols);
        string name = CheckIdentity(module, path);
        var inputMvid = module.Mvid;
        uint moduleId = SiteId.ModuleIdFor(name, inputMvid);

        if ((module.Attributes & ModuleAttributes.ILOnly) == 0)
        {
            // Only ReadyToRun images get here (InputCheck refuses mixed-mode ones): the rewritten image has IL alone.
            module.Attributes = (module.Attributes | ModuleAttributes.ILOnly) & ~ModuleAttributes.ILLibrary;
            warnings.Add($"{name}: its ReadyToRun native code was dropped; the JIT compiles the instrumented IL instead.");
        }
        if ((module.Attributes & ModuleAttributes.StrongNameSigned) != 0)
        {
            module.Attributes &= ~ModuleAttributes.StrongNameSigned;
            warnings.Add($"{name}: strong-name signature dropped (the .NET runtime does not check it); its public key, and so its identity, are kept.");
        }

        var runtime = new RuntimeReferences(module);
        var cases = new SwitchCases(module);
        var sites = new SiteTable(moduleId);
        var probes = new ModuleProbes(module, runtime, moduleId);
        var calls = options.Trace.HasFlag(TraceModes.Cmp) && options.CallSiteHooks ? new CallSiteHooks(module, sites) : null;
        var rewriter = new MethodRewriter(module, runtime, probes, cases, sites, options, calls);
        var filter = exclusions.For(module);
        int methods = 0, excluded = 0, untyped = 0;
        foreach (var type in TypesInOrder(module).ToList())
        {
            foreach (var method in type.Methods)
            {
                if (!method.HasBody || ReadBody(method, path).Instructions.Count == 0)
                    continue;
                if (filter.IsExcluded(method))
                {
                    excluded++;
                    continue;
                }
                try
                {
                    if (rewriter.Rewrite(method) > 0)
                        methods++;
                }
                catch (Exception e) when (e is not InstrumentationException)
                {
                    throw new InstrumentationException(
                        $"'{path}': could not instrument {CodeOwner.TypeName(type)}.{method.Name} ({e.GetType().Name}: {e.Message}); leave it out with --exclude '{CodeOwner.TypeName(type)}.{method.Name}' and report it.", e);
                }
                if (rewriter.LastMethodUntyped)
                    untyped++;
            }
        }
        cases.Complete();
        probes.Complete(sites.Count);
        Mark(module, options.Trace);

        var assembly = new MemoryStream();
        var pdb = symbols == Symbols.Beside ? new MemoryStream() : null;
        var parameters = new WriterParameters { DeterministicMvid = true };
        if (symbols == Symbols.Embedded)
        {
            parameters.WriteSymbols = true;
            parameters.SymbolWriterProvider = new EmbeddedPdbWriterProvider();
        }
        else if (symbols == Symbols.Beside)
        {
            parameters.WriteSymbols = true;
            parameters.SymbolWriterProvider = new PortablePdbWriterProvider();
            parameters.SymbolStream = pdb;
        }
        try
        {
            module.Write(assembly, parameters);
        }
        catch (Exception e)
        {
            throw new InstrumentationException($"'{path}': writing the instrumented module failed ({e.GetType().Name}: {e.Message}).", e);
        }

        var statistics = new InstrumentationStatistics(methods, excluded, sites.BlockSites, sites.CmpSites, sites.SwitchSites, untyped, inputBytes,
            sites.ImpliedBlocks, rewriter.Cmp1Sites, rewriter.Cmp2Sites);
        // After Write: the map records the output's deterministic MVID.
        var map = sites.ToMap(module, inputMvid, options.Trace);
        return new InstrumentedAssembly(assembly.ToArray(), pdb?.ToArray(), map, statistics, warnings) { MissingSymbols = missingSymbols };
    }

    private static ModuleDefinition Read(string path, IAssemblyResolver resolver, InstrumentationOptions options,
        out Symbols symbols, out string? missingSymbols)
    {
        ModuleDefinition Open(bool withSymbols, Stream? pdb = null) => ModuleDefinition.ReadModule(path, new ReaderParameters
        {
            AssemblyResolver = resolver,
            ReadingMode = ReadingMode.Immediate,
            InMemory = true,
            ReadSymbols = withSymbols,
            SymbolStream = pdb,
            SymbolReaderProvider = !withSymbols ? null
                : pdb is not null ? new PortablePdbReaderProvider()
                : new DefaultSymbolReaderProvider(throwIfNoSymbol: false),
        });

        ModuleDefinition module;
        string? besideProblem = null;
        try
        {
            module = Open(withSymbols: true);
        }
        catch (Exception e) when (e is SymbolsNotMatchingException or SymbolsNotFoundException or BadImageFormatException or InvalidOperationException or IOException)
        {
            try
            {
                module = Open(withSymbols: false);
            }
            catch (Exception inner)
            {
                throw Corrupt(path, inner);
            }
            besideProblem = e.Message;
        }
        catch (Exception e)
        {
            throw Corrupt(path, e);
        }

        missingSymbols = null;
        if (!module.HasSymbols)
        {
            // Not beside it, not embedded: a package assembly's PDB may be in its NuGet package.
            string file = Path.GetFileName(path);
            string packages = options.PackagesFolder ?? PackageSymbols.DefaultFolder;
            var package = PackageSymbols.Find(path, packages);
            string? packageProblem = package is null ? null
                : !Directory.Exists(package.Folder) ? $"its NuGet package {package.Id} {package.Version} is not in {packages}"
                : !File.Exists(package.PdbPath) ? $"not in its NuGet package {package.Id} {package.Version}"
                : PackageSymbols.Mismatch(path, package.PdbPath) is { } why ? $"the one in its NuGet package {package.Id} {package.Version} does not match it: {why}"
                : null;
            if (package is not null && packageProblem is null)
            {
                module.Dispose();
                try
                {
                    using var pdb = new MemoryStream(File.ReadAllBytes(package.PdbPath));
                    module = Open(withSymbols: true, pdb);
                }
                catch (Exception e) when (e is SymbolsNotMatchingException or BadImageFormatException or InvalidOperationException or IOException)
                {
                    module = Open(withSymbols: false);
                    packageProblem = $"the one in its NuGet package {package.Id} {package.Version} cannot be read ({e.Message})";
                }
            }
            if (!module.HasSymbols)
            {
                string beside = besideProblem is null ? "not beside it" : $"the one beside it cannot be used ({besideProblem.TrimEnd('.')})";
                missingSymbols = $"no PDB for {file} ({beside}, not embedded{(packageProblem is null ? "" : ", " + packageProblem)}): "
                    + "crash frames and coverage reports will have no source lines; "
                    + (package is null
                        ? $"build it with <DebugType>portable</DebugType> and keep {Path.ChangeExtension(file, ".pdb")} beside it"
                        : $"put its matching {Path.ChangeExtension(file, ".pdb")} beside it (e.g. from the package's .snupkg symbols package)");
            }
        }

        if (!module.HasSymbols)
            symbols = Symbols.None;
        else if (module.HasDebugHeader && module.GetDebugHeader().Entries.Any(e => e.Directory.Type == ImageDebugType.EmbeddedPortablePdb))
            symbols = Symbols.Embedded;
        else
            symbols = Symbols.Beside;
        return module;
    }

    /// <summary>
    /// The method's IL, which Cecil decodes only now (its operands' tokens and signatures): whatever
    /// it throws doing that comes from the input's bytes, so it is a corrupt input, not our bug.
    /// </summary>
    private static Mono.Cecil.Cil.MethodBody ReadBody(MethodDefinition method, string path)
    {
        try
        {
            return method.Body;
        }
        catch (Exception e)
        {
            throw new InstrumentationException($"'{path}' is not a valid .NET assembly: the IL of {CodeOwner.TypeName(method.DeclaringType)}.{method.Name} cannot be read ({e.GetType().Name}: {e.Message}); is it truncated or corrupt?", e);
        }
    }

    private static InstrumentationException Corrupt(string path, Exception e) =>
        new($"'{path}' is not a valid .NET assembly: its metadata cannot be read ({e.GetType().Name}: {e.Message}); is it truncated or corrupt?", e);

    /// <summary>Refuses what must never be instrumented; returns the assembly's simple name.</summary>
    private static string CheckIdentity(ModuleDefinition module, string path)
    {
        string? name = module.Assembly?.Name.Name;
        if (name is null)
            throw new InstrumentationException($"'{path}' is a netmodule (no assembly manifest); instrument the assembly that contains it.");
        if (name == RuntimeReferences.AssemblyName)
            throw new InstrumentationException($"'{path}' is Kcov.Runtime, which instrumented code calls into; it is never instrumented.");
        if (IsFramework(name))
            throw new InstrumentationException($"'{path}' ({name}) is part of the .NET libraries; kcov never instruments System.*, Microsoft.*, netstandard or mscorlib.");
        var attributes = module.Assembly!.CustomAttributes;
        if (attributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.ReferenceAssemblyAttribute"))
            throw new InstrumentationException($"'{path}' is a reference assembly (metadata only, no real code); instrument the implementation from bin/ or the package's lib/ folder, not ref/.");
        var marker = attributes.FirstOrDefault(a => a.AttributeType.Name == "AssemblyMetadataAttribute"
            && a.ConstructorArguments.Count == 2 && a.ConstructorArguments[0].Value as string == MarkerKey);
        if (marker is not null)
            throw new InstrumentationException($"'{path}' is already instrumented by kcov (trace {marker.ConstructorArguments[1].Value}); instrument the original assembly instead.");
        return name;
    }

    private static bool IsFramework(string name) =>
        name is "mscorlib" or "netstandard" or "System" or "WindowsBase"
        || name.StartsWith("System.", StringComparison.Ordinal)
        || name.StartsWith("Microsoft.", StringComparison.Ordinal);

    /// <summary>[assembly: AssemblyMetadata("Kcov.Instrumented", "pc,cmp")], referenced through the module's own core library.</summary>
    private static void Mark(ModuleDefinition module, TraceModes modes)
    {
        var types = module.TypeSystem;
        var attribute = new TypeReference("System.Reflection", "AssemblyMetadataAttribute", module, types.CoreLibrary);
        var ctor = new MethodReference(".ctor", types.Void, attribute) { HasThis = true };
        ctor.Parameters.Add(new ParameterDefinition(types.String));
        ctor.Parameters.Add(new ParameterDefinition(types.String));
        var mark = new CustomAttribute(ctor);
        string value = string.Join(",", new[] { (TraceModes.Pc, "pc"), (TraceModes.Cmp, "cmp") }.Where(m => modes.HasFlag(m.Item1)).Select(m => m.Item2));
        mark.ConstructorArguments.Add(new CustomAttributeArgument(types.String, MarkerKey));
        mark.ConstructorArguments.Add(new CustomAttributeArgument(types.String, value));
        module.Assembly.CustomAttributes.Add(mark);
    }

    /// <summary>Every type, each followed by its nested types, in metadata order: the order sites are numbered in.</summary>
    private static IEnumerable<TypeDefinition> TypesInOrder(ModuleDefinition module)
    {
        static IEnumerable<TypeDefinition> Walk(TypeDefinition type)
        {
            yield return type;
            foreach (var nested in type.NestedTypes)
                foreach (var t in Walk(nested))
                    yield return t;
        }
        return module.Types.SelectMany(Walk);
    }
}
