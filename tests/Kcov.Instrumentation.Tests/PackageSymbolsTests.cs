using Kcov.Coverage;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// A package assembly's PDB is not in bin/ (the SDK leaves it in the package): it is looked for in
/// the NuGet packages folder through the deps.json beside the assembly, used only when it matches,
/// carried over to the output, and its absence is one line saying what is missing and the fix.
/// </summary>
public sealed class PackageSymbolsTests : IDisposable
{
    private const string Source = """
        public static class Parser
        {
            public static int Parse(string s)
            {
                if (s.Length > 3)
                    return 1;
                return 0;
            }
        }
        """;

    private readonly TempDirectory _dir = new();

    private string Packages => _dir.Combine("packages");

    /// <summary>
    /// Pkg.dll alone in app/ with an app.deps.json naming package Pkg 1.2.3, whose folder in the fake
    /// packages folder has the dll and (when given) the PDB of <paramref name="pdbSource"/> compiled (the
    /// dll's own when it is <see cref="Source"/>) beside it.
    /// </summary>
    private string PackageAssembly(string? pdbSource)
    {
        string built = Snippet.Compile(Source, _dir.Combine("build"), "Pkg");
        string lib = Path.Combine(Packages, "pkg", "1.2.3", "lib", "net10.0");
        Directory.CreateDirectory(lib);
        File.Copy(built, Path.Combine(lib, "Pkg.dll"));
        if (pdbSource is not null)
        {
            string pdbOf = pdbSource == Source ? built : Snippet.Compile(pdbSource, _dir.Combine("other"), "Pkg");
            File.Copy(Path.ChangeExtension(pdbOf, ".pdb"), Path.Combine(lib, "Pkg.pdb"));
        }
        string app = _dir.Combine("app");
        Directory.CreateDirectory(app);
        File.Copy(built, Path.Combine(app, "Pkg.dll"));
        File.WriteAllText(Path.Combine(app, "App.deps.json"), """
            {
              "runtimeTarget": { "name": ".NETCoreApp,Version=v10.0" },
              "targets": {
                ".NETCoreApp,Version=v10.0": {
                  "App/1.0.0": { "dependencies": { "Pkg": "1.2.3" }, "runtime": { "App.dll": {} } },
                  "Pkg/1.2.3": { "runtime": { "lib/net10.0/Pkg.dll": { "assemblyVersion": "0.0.0.0" } } }
                }
              },
              "libraries": {
                "App/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
                "Pkg/1.2.3": { "type": "package", "serviceable": true, "sha512": "sha512-x", "path": "pkg/1.2.3", "hashPath": "pkg.1.2.3.nupkg.sha512" }
              }
            }
            """);
        return Path.Combine(app, "Pkg.dll");
    }

    private InstrumentationResult Instrument(string assembly, string? packages = null) =>
        AssemblyInstrumenter.Instrument(assembly, _dir.Combine("out"), new InstrumentationOptions { PackagesFolder = packages ?? Packages });

    private static bool HasLines(PcMap map) => map.Sites.ToArray().Any(s => s.HasLocation);

    [Fact]
    public void APdbOnlyInTheNuGetPackageGivesTheMapItsLinesAndTheOutputItsPdb()
    {
        var result = Instrument(PackageAssembly(pdbSource: Source));
        Assert.Null(result.MissingSymbols);
        Assert.NotNull(result.PdbPath);
        Assert.True(File.Exists(result.PdbPath));
        Assert.True(HasLines(result.Map));
        Assert.Equal(Path.Combine(_dir.Combine("build"), "Pkg.cs"), Assert.Single(result.Map.Documents));
        // The carried-over PDB belongs to the instrumented output (Cecil reads it back without a mismatch).
        Assert.Null(PackageSymbols.Mismatch(result.AssemblyPath, result.PdbPath!));
    }

    [Fact]
    public void AMismatchedPdbInThePackageIsNeverUsed()
    {
        // Same name, other code: another build's PDB.
        var result = Instrument(PackageAssembly(pdbSource: Source.Replace("> 3", "> 4")));
        Assert.Null(result.PdbPath);
        Assert.False(HasLines(result.Map));
        Assert.Equal("no PDB for Pkg.dll (not beside it, not embedded, the one in its NuGet package Pkg 1.2.3 does not match it: its id differs from the assembly's): "
            + "crash frames and coverage reports will have no source lines; put its matching Pkg.pdb beside it (e.g. from the package's .snupkg symbols package)", result.MissingSymbols);
    }

    [Fact]
    public void APdbThatIsNotPortableIsNeverUsed()
    {
        string dll = PackageAssembly(pdbSource: null);
        File.WriteAllBytes(Path.Combine(Packages, "pkg", "1.2.3", "lib", "net10.0", "Pkg.pdb"), "Microsoft C/C++ MSF 7.00\r\n"u8.ToArray());
        var result = Instrument(dll);
        Assert.Null(result.PdbPath);
        Assert.StartsWith("no PDB for Pkg.dll (not beside it, not embedded, the one in its NuGet package Pkg 1.2.3 does not match it: it is not a portable PDB (", result.MissingSymbols);
    }

    [Fact]
    public void APackageWithoutAPdbIsOneLineSayingSoAndTheFix()
    {
        var result = Instrument(PackageAssembly(pdbSource: null));
        Assert.Null(result.PdbPath);
        Assert.Equal("no PDB for Pkg.dll (not beside it, not embedded, not in its NuGet package Pkg 1.2.3): "
            + "crash frames and coverage reports will have no source lines; put its matching Pkg.pdb beside it (e.g. from the package's .snupkg symbols package)", result.MissingSymbols);
    }

    [Fact]
    public void APackageMissingFromThePackagesFolderIsNamed()
    {
        string elsewhere = _dir.Combine("elsewhere");
        var result = Instrument(PackageAssembly(pdbSource: Source), elsewhere);
        Assert.Null(result.PdbPath);
        Assert.Equal($"no PDB for Pkg.dll (not beside it, not embedded, its NuGet package Pkg 1.2.3 is not in {elsewhere}): "
            + "crash frames and coverage reports will have no source lines; put its matching Pkg.pdb beside it (e.g. from the package's .snupkg symbols package)", result.MissingSymbols);
    }

    [Fact]
    public void AnAssemblyOfNoPackageWithoutAPdbSaysHowToBuildOne()
    {
        string dll = Snippet.Compile(Source, _dir.Combine("own"), "Own");
        File.Delete(Path.ChangeExtension(dll, ".pdb"));
        var result = Instrument(dll);
        Assert.Equal("no PDB for Own.dll (not beside it, not embedded): crash frames and coverage reports will have no source lines; "
            + "build it with <DebugType>portable</DebugType> and keep Own.pdb beside it", result.MissingSymbols);
    }

    [Fact]
    public void APdbBesideTheAssemblyNeedsNoPackage()
    {
        var result = Instrument(Snippet.Compile(Source, _dir.Combine("own"), "Own"));
        Assert.Null(result.MissingSymbols);
        Assert.True(HasLines(result.Map));
    }

    /// <summary>
    /// Real packages restored for this test project (the default packages folder): HtmlAgilityPack
    /// 1.13.0 ships its portable PDB in lib/net8.0, Markdig 1.4.1 ships none.
    /// </summary>
    [Fact]
    public void RealPackagesFromTheNuGetCache()
    {
        string bin = AppContext.BaseDirectory;
        Assert.False(File.Exists(Path.Combine(bin, "HtmlAgilityPack.pdb")));
        var html = AssemblyInstrumenter.Instrument(Path.Combine(bin, "HtmlAgilityPack.dll"), _dir.Combine("html"), new InstrumentationOptions());
        Assert.Null(html.MissingSymbols);
        Assert.NotNull(html.PdbPath);
        Assert.True(HasLines(html.Map));

        var markdig = AssemblyInstrumenter.Instrument(Path.Combine(bin, "Markdig.dll"), _dir.Combine("markdig"), new InstrumentationOptions());
        Assert.Null(markdig.PdbPath);
        Assert.Equal("no PDB for Markdig.dll (not beside it, not embedded, not in its NuGet package Markdig 1.4.1): "
            + "crash frames and coverage reports will have no source lines; put its matching Markdig.pdb beside it (e.g. from the package's .snupkg symbols package)", markdig.MissingSymbols);
    }

    public void Dispose() => _dir.Dispose();
}
