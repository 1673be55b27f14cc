using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Tests;

/// <summary>The flags table in docs/fuzzing.md is the one the parser and -help=1 use.</summary>
public class DocsTests
{
    private const string Begin = "<!-- flags:begin", End = "<!-- flags:end -->";

    [Fact]
    public void DocsCarryTheFlagsTable()
    {
        string path = Path.Combine(RepositoryRoot(), "docs", "fuzzing.md");
        string doc = File.ReadAllText(path).Replace("\r", "");
        int begin = doc.IndexOf('\n', doc.IndexOf(Begin, StringComparison.Ordinal)) + 1;
        int end = doc.IndexOf(End, StringComparison.Ordinal);
        string expected = FuzzerFlags.MarkdownTable();
        // KCOV_UPDATE_DOCS=1 rewrites the section (after a change to the table).
        if (Environment.GetEnvironmentVariable("KCOV_UPDATE_DOCS") == "1")
            File.WriteAllText(path, doc[..begin] + expected + doc[end..]);
        else
            Assert.Equal(expected, doc[begin..end]);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Kcov.slnx")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("no Kcov.slnx above the test directory");
    }
}
