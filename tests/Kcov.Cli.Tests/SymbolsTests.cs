using Kcov.Coverage;

namespace Kcov.Cli.Tests;

/// <summary>
/// `dotnet kcov instrument` and `fuzz` find a package assembly's PDB in the NuGet packages folder
/// (NUGET_PACKAGES), carry it over, and say in one warning line when there is none.
/// </summary>
public sealed class SymbolsTests : IDisposable
{
    private const string Name = "Kcov.Samples.Targets";

    private readonly TempDirectory _dir = new();

    /// <summary>
    /// A real dll+pdb pair (the samples' targets, built with the tests) laid out as package
    /// Kcov.Samples.Targets 9.9.9 in a packages folder of our own, and the dll alone in app/ with a
    /// deps.json naming that package, as the SDK leaves a package dependency in bin/.
    /// </summary>
    private string PackageAssembly(bool withPdb)
    {
        string built = Path.Combine(AppContext.BaseDirectory, Name + ".dll");
        string lib = _dir.Combine("packages", "kcov.samples.targets", "9.9.9", "lib", "net10.0");
        Directory.CreateDirectory(lib);
        File.Copy(built, Path.Combine(lib, Name + ".dll"));
        if (withPdb)
            File.Copy(Path.ChangeExtension(built, ".pdb"), Path.Combine(lib, Name + ".pdb"));
        string app = _dir.Combine("app");
        Directory.CreateDirectory(app);
        File.Copy(built, Path.Combine(app, Name + ".dll"));
        File.WriteAllText(Path.Combine(app, "App.deps.json"), $$"""
            {
              "targets": { ".NETCoreApp,Version=v10.0": { "{{Name}}/9.9.9": { "runtime": { "lib/net10.0/{{Name}}.dll": {} } } } },
              "libraries": { "{{Name}}/9.9.9": { "type": "package", "serviceable": true, "sha512": "sha512-x", "path": "kcov.samples.targets/9.9.9" } }
            }
            """);
        return Path.Combine(app, Name + ".dll");
    }

    private Kcov.Result InstrumentWithPackagesFolder(string assembly)
    {
        var start = DotnetProcess.StartInfo(Path.Combine(AppContext.BaseDirectory, "dotnet-kcov.dll"), "instrument", assembly, "-o", _dir.Combine("out"));
        start.Environment["NUGET_PACKAGES"] = _dir.Combine("packages");
        var (exitCode, stdout, stderr) = DotnetProcess.Run(start);
        return new Kcov.Result(exitCode, stdout, stderr);
    }

    [Fact]
    public void InstrumentCarriesOverThePdbFoundInThePackagesFolder()
    {
        var result = InstrumentWithPackagesFolder(PackageAssembly(withPdb: true));
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.DoesNotContain("warning", result.Error);
        Assert.True(File.Exists(_dir.Combine("out", Name + ".pdb")));
        var map = PcMap.Load(_dir.Combine("out", Name + PcMap.Extension));
        Assert.Contains(map.Sites.ToArray(), s => s.HasLocation);
    }

    [Fact]
    public void InstrumentWarnsInOneLineWhenThePackageHasNoPdbAndGoesOn()
    {
        var result = InstrumentWithPackagesFolder(PackageAssembly(withPdb: false));
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("kcov: warning: no PDB for Kcov.Samples.Targets.dll (not beside it, not embedded, not in its NuGet package Kcov.Samples.Targets 9.9.9): "
            + "crash frames and coverage reports will have no source lines; put its matching Kcov.Samples.Targets.pdb beside it (e.g. from the package's .snupkg symbols package)",
            Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.True(File.Exists(_dir.Combine("out", Name + ".dll")));
        Assert.False(File.Exists(_dir.Combine("out", Name + ".pdb")));
    }

    public void Dispose() => _dir.Dispose();
}
