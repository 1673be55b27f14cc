using System.Reflection;
using Xunit.Sdk;

namespace Kcov.Fuzzing.Xunit;

/// <summary>
/// Regression mode, libFuzzer's "run these inputs" as a theory: every file of the given corpus and
/// crash directories is one test case (<see cref="FuzzInput"/>), named after its file. A crash found
/// by a campaign, kept in the crash directory, is a failing test until the bug is fixed.
/// <code>
/// [Theory, FuzzTarget("fuzz/corpus", "fuzz/crashes")]
/// public void Parses(FuzzInput input) => MyParser.Parse(input.Data);
/// </code>
/// A relative directory is looked for beside the test assembly, then in each directory above it
/// (so <c>fuzz/corpus</c> next to the test project's .csproj is found from bin/Release/net10.0/).
/// A directory found nowhere gives no cases; if none of them is found the theory fails with the
/// paths it looked for (xunit reports a theory without data as an error).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FuzzTargetAttribute(params string[] directories) : DataAttribute
{
    /// <summary>The corpus and crash directories, as given.</summary>
    public IReadOnlyList<string> Directories { get; } = directories;

    public override IEnumerable<object[]> GetData(MethodInfo testMethod)
    {
        foreach (string directory in Directories)
        {
            if (Locate(directory, AppContext.BaseDirectory) is not { } found)
                continue;
            // Our own temporary files (a write cut short) start with a dot; so do editors' and git's.
            foreach (string file in System.IO.Directory.EnumerateFiles(found, "*", SearchOption.AllDirectories)
                         .Where(f => !Path.GetFileName(f).StartsWith('.'))
                         .Order(StringComparer.Ordinal))
                yield return [new FuzzInput(file, Path.GetRelativePath(found, file))];
        }
    }

    /// <summary>The directory <paramref name="directory"/> names: absolute, or relative to <paramref name="start"/> or a directory above it.</summary>
    public static string? Locate(string directory, string start)
    {
        if (Path.IsPathRooted(directory))
            return System.IO.Directory.Exists(directory) ? directory : null;
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, directory);
            if (System.IO.Directory.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
