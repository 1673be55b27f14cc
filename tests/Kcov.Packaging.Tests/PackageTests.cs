using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;

namespace Kcov.Packaging.Tests;

/// <summary>
/// A new user's first hour, with packages only: the solution's packages are packed into a local
/// folder feed, and a fresh solution outside the repository (a temp directory, its own NuGet cache
/// folder) takes Kcov.* and dotnet-kcov from that feed alone, and only the rest (xunit, Spectre.Console)
/// from the machine's package source. It fuzzes a sample to its bug three ways: the harness built with
/// Kcov.MSBuild, `dotnet kcov fuzz` from a local tool install, and the crash replayed by `dotnet test`.
/// One test: every step needs the one before it.
/// </summary>
public sealed class PackageTests : IDisposable
{
    private static readonly string[] Packages = ["Kcov.Runtime", "Kcov.Coverage", "Kcov.Instrumentation", "Kcov.Control", "Kcov.Fuzzing", "Kcov.Fuzzing.Xunit", "Kcov.AspNetCore", "dotnet-kcov", "Kcov.MSBuild"];
    private static readonly string[] Projects = ["Kcov.Runtime", "Kcov.Coverage", "Kcov.Instrumentation", "Kcov.Control", "Kcov.Fuzzing", "Kcov.Fuzzing.Xunit", "Kcov.AspNetCore", "Kcov.Cli", "Kcov.MSBuild"];

    private readonly string _root = Directory.CreateTempSubdirectory("kcov-package-test-").FullName;
    private string Feed => Path.Combine(_root, "feed");
    private string Work => Path.Combine(_root, "work");

    [Fact]
    public void AFreshProjectFuzzesASampleToItsBugWithPackagesOnly()
    {
        PackTheSolution();
        AssertPackageMetadata();
        WriteFreshSolution();

        var tool = Run(Work, "dotnet", "new", "tool-manifest");
        Assert.True(tool.ExitCode == 0, tool.Output);
        tool = Run(Work, "dotnet", "tool", "install", "dotnet-kcov", "--version", "1.0.0");
        Assert.True(tool.ExitCode == 0, tool.Output);

        // 1. Kcov.MSBuild instruments the target at build time: the harness runs instrumented from bin/.
        var build = Run(Work, "dotnet", "build", "Harness", "-c", "Release");
        Assert.True(build.ExitCode == 0, build.Output);
        Assert.Contains("Kcov.MSBuild: instrumented Target (trace pc,cmp)", build.Output);
        string bin = Path.Combine(Work, "Harness", "bin", "Release", "net10.0");
        Assert.True(File.Exists(Path.Combine(bin, "Target.kcovmap")));
        var fuzz = Run(Work, "dotnet", Path.Combine(bin, "Harness.dll"), "-runs=5000", "-seed=1", "-artifact_prefix=crashes/", "corpus");
        Assert.True(fuzz.ExitCode == 77, fuzz.Output);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash System.InvalidOperationException <- Target.Magic.Run", fuzz.Output);
        string crash = Assert.Single(Directory.GetFiles(Path.Combine(Work, "crashes"), "crash-*"));

        // 2. The installed tool, run as `dotnet kcov`, on the same build.
        var kcov = Run(Work, "dotnet", "kcov", "fuzz", Path.Combine(bin, "Harness.dll"), "-o", "app", "-runs=5000", "-seed=2", "-artifact_prefix=tool-", "corpus2");
        Assert.True(kcov.ExitCode == 77, kcov.Output);
        Assert.Contains("kcov: Target.dll is already instrumented (trace pc,cmp): used as it is", kcov.Output);
        Assert.Single(Directory.GetFiles(Work, "tool-crash-*"));

        // 3. The crash is a failing case of the regression theory in dotnet test.
        Directory.CreateDirectory(Path.Combine(Work, "Tests", "crashes"));
        File.Copy(crash, Path.Combine(Work, "Tests", "crashes", Path.GetFileName(crash)));
        var test = Run(Work, "dotnet", "test", "Tests", "-c", "Release");
        Assert.True(test.ExitCode != 0, test.Output);
        Assert.Contains("Failed Tests.MagicTests.Replays(input: " + Path.GetFileName(crash) + ")", test.Output);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(test.Output, @"Failed:\s+1, Passed:\s+1,"), test.Output);

        // Kcov's packages came from the local feed, the rest from the machine's source, into the clean cache.
        foreach (string id in new[] { "kcov.fuzzing", "kcov.runtime", "kcov.control", "kcov.msbuild", "kcov.fuzzing.xunit", "dotnet-kcov" })
            Assert.True(File.Exists(Path.Combine(_root, "packages", id, "1.0.0", ".nupkg.metadata")), id);
    }

    /// <summary>dotnet pack of each packable project, from the build the test run made.</summary>
    private void PackTheSolution()
    {
        string repo = RepositoryRoot();
        foreach (string project in Projects)
        {
            var pack = Run(repo, "dotnet", "pack", Path.Combine("src", project), "-c", Configuration, "--no-build", "-o", Feed);
            Assert.True(pack.ExitCode == 0, pack.Output);
        }
        foreach (string id in Packages)
            Assert.True(File.Exists(Path.Combine(Feed, $"{id}.1.0.0.nupkg")), id);
    }

    private void AssertPackageMetadata()
    {
        foreach (string id in Packages)
        {
            using var zip = ZipFile.OpenRead(Path.Combine(Feed, $"{id}.1.0.0.nupkg"));
            var nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
            string Meta(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
            Assert.Equal("MIT", Meta("license"));
            Assert.Equal("README.md", Meta("readme"));
            Assert.NotNull(zip.GetEntry("README.md"));
            Assert.NotEqual("Package Description", Meta("description"));
            Assert.Equal("git", metadata.Elements().Single(e => e.Name.LocalName == "repository").Attribute("type")?.Value);
        }
        // Libraries and the tool come with symbols packages; Kcov.Runtime depends on nothing.
        foreach (string id in new[] { "Kcov.Runtime", "Kcov.Coverage", "Kcov.Instrumentation", "Kcov.Control", "Kcov.Fuzzing", "Kcov.Fuzzing.Xunit", "Kcov.AspNetCore", "dotnet-kcov" })
            Assert.True(File.Exists(Path.Combine(Feed, $"{id}.1.0.0.snupkg")), id);
        Assert.DoesNotContain("<dependency ", Nuspec("Kcov.Runtime"));
        // Kcov.Control takes only the runtime into a service; Kcov.AspNetCore brings the ASP.NET Core framework reference.
        Assert.Equal(["Kcov.Runtime"], Dependencies(Nuspec("Kcov.Control")));
        Assert.Equal(["Kcov.Control"], Dependencies(Nuspec("Kcov.AspNetCore")));
        Assert.Contains("Microsoft.AspNetCore.App", XDocument.Parse(Nuspec("Kcov.AspNetCore")).Descendants()
            .Where(e => e.Name.LocalName == "frameworkReference").Select(e => e.Attribute("name")?.Value));
    }

    private string Nuspec(string id)
    {
        using var zip = ZipFile.OpenRead(Path.Combine(Feed, $"{id}.1.0.0.nupkg"));
        using var reader = new StreamReader(zip.GetEntry($"{id}.nuspec")!.Open());
        return reader.ReadToEnd();
    }

    private static string[] Dependencies(string nuspec) =>
        XDocument.Parse(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => e.Attribute("id")!.Value).Distinct().ToArray();

    private void WriteFreshSolution()
    {
        Directory.CreateDirectory(Work);
        // The machine's sources as they are configured for a directory outside the repository.
        var sources = Run(Work, "dotnet", ["nuget", "list", "source", "--format", "short"], isolated: false);
        Assert.True(sources.ExitCode == 0, sources.Output);
        var machine = sources.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("E ", StringComparison.Ordinal)).Select(l => l[2..].Trim()).ToList();
        Assert.NotEmpty(machine);
        var config = new XElement("configuration",
            new XElement("packageSources", new XElement("clear"),
                new XElement("add", new XAttribute("key", "kcov-local"), new XAttribute("value", Feed)),
                machine.Select((s, i) => new XElement("add", new XAttribute("key", $"machine-{i}"), new XAttribute("value", s)))),
            // Kcov's ids only ever from the local feed: the test must not pass on a package of the same name elsewhere.
            new XElement("packageSourceMapping",
                new XElement("packageSource", new XAttribute("key", "kcov-local"),
                    new XElement("package", new XAttribute("pattern", "Kcov.*")),
                    new XElement("package", new XAttribute("pattern", "dotnet-kcov"))),
                machine.Select((_, i) => new XElement("packageSource", new XAttribute("key", $"machine-{i}"),
                    new XElement("package", new XAttribute("pattern", "*"))))));
        File.WriteAllText(Path.Combine(Work, "nuget.config"), config.ToString());
        File.WriteAllText(Path.Combine(Work, "Directory.Build.props"), "<Project><PropertyGroup><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup></Project>");

        Write("Target/Target.csproj", """<Project Sdk="Microsoft.NET.Sdk" />""");
        Write("Target/Magic.cs", """
            namespace Target;
            public static class Magic
            {
                public static void Run(ReadOnlySpan<byte> data)
                {
                    if (data.Length >= 4 && BitConverter.ToUInt32(data) == 0x4B434F56)
                        throw new InvalidOperationException("planted bug");
                }
            }
            """);
        Write("Harness/Harness.csproj", """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType></PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Kcov.Fuzzing" Version="1.0.0" />
                <PackageReference Include="Kcov.MSBuild" Version="1.0.0" PrivateAssets="all" />
                <ProjectReference Include="../Target/Target.csproj" />
                <KcovInstrument Include="Target" />
              </ItemGroup>
            </Project>
            """);
        Write("Harness/Program.cs", "return Kcov.Fuzzing.Fuzzer.Run(args, Target.Magic.Run);\n");
        Write("Tests/Tests.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup>
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="{PackageVersion("Microsoft.NET.Test.Sdk")}" />
                <PackageReference Include="xunit" Version="{PackageVersion("xunit")}" />
                <PackageReference Include="xunit.runner.visualstudio" Version="{PackageVersion("xunit.runner.visualstudio")}" />
                <PackageReference Include="Kcov.Fuzzing.Xunit" Version="1.0.0" />
                <PackageReference Include="Kcov.MSBuild" Version="1.0.0" PrivateAssets="all" />
                <ProjectReference Include="../Target/Target.csproj" />
                <KcovInstrument Include="Target" />
              </ItemGroup>
            </Project>
            """);
        Write("Tests/MagicTests.cs", """
            using Kcov.Fuzzing.Xunit;
            using Xunit;
            namespace Tests;
            public class MagicTests
            {
                [Theory, FuzzTarget("corpus", "crashes")]
                public void Replays(FuzzInput input) => Target.Magic.Run(input.Data);
            }
            """);
        Write("Tests/corpus/hello", "hello");
    }

    private void Write(string relative, string text)
    {
        string path = Path.Combine(Work, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>The version Directory.Packages.props pins, so the fresh project asks for one the source has.</summary>
    private static string PackageVersion(string id) =>
        XDocument.Load(Path.Combine(RepositoryRoot(), "Directory.Packages.props")).Descendants("PackageVersion")
            .Single(e => e.Attribute("Include")?.Value == id).Attribute("Version")!.Value;

    private static string Configuration =>
        typeof(PackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Kcov.slnx")))
                return dir.FullName;
        throw new DirectoryNotFoundException("Kcov.slnx not found above " + AppContext.BaseDirectory);
    }

    private (int ExitCode, string Output) Run(string workDir, string file, params string[] args) => Run(workDir, file, args, isolated: true);

    /// <summary>
    /// Runs a command; returns its exit code and everything it printed. Isolated: with the clean NuGet
    /// cache folder and a home of its own for the dotnet CLI (whose local-tool cache would otherwise
    /// remember where an earlier run's cache folder had the tool).
    /// </summary>
    private (int ExitCode, string Output) Run(string workDir, string file, string[] args, bool isolated)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        if (isolated)
        {
            start.Environment["NUGET_PACKAGES"] = Path.Combine(_root, "packages");
            start.Environment["DOTNET_CLI_HOME"] = Path.Combine(_root, "home");
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The test host's MSBuild settings must not leak into the child builds.
        foreach (string name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "VSTEST_HOST_DEBUG" })
            start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, $"$ {file} {string.Join(' ', args)}\n{stdout}{stderr.Result}");
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
