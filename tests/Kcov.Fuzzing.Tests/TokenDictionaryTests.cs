using Kcov.Fuzzing.Mutation;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Tests;

public class TokenDictionaryTests
{
    [Fact]
    public void ParsesLibFuzzerDictionaryFormat()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "# comment\n\nkw1=\"select\"\n\"\\x00\\xffA\"\nquote=\"a\\\"b\\\\c\"\n");
        var tokens = TokenDictionary.Parse(path);
        File.Delete(path);
        Assert.Equal(3, tokens.Count);
        Assert.Equal("select"u8.ToArray(), tokens[0]);
        Assert.Equal(new byte[] { 0, 0xFF, (byte)'A' }, tokens[1]);
        Assert.Equal("a\"b\\c"u8.ToArray(), tokens[2]);
    }

    [Fact]
    public void ABadLineNamesFileAndLine()
    {
        string path = Path.GetTempFileName();
        File.WriteAllText(path, "\"ok\"\nnot quoted\n");
        var e = Assert.Throws<FuzzerUsageException>(() => TokenDictionary.Parse(path));
        File.Delete(path);
        Assert.Contains($"{path}:2:", e.Message);
    }

    [Fact]
    public void MissingFileIsAUsageError()
    {
        var e = Assert.Throws<FuzzerUsageException>(() => TokenDictionary.Parse("/no/such/dict"));
        Assert.Contains("-dict=", e.Message);
    }

    [Fact]
    public void LiteralsComeOnlyFromAssembliesThatReferenceTheRuntime()
    {
        // The test harness references Kcov.Runtime (hand-instrumented targets); Kcov.Fuzzing does
        // too, but it is the fuzzer, not a target; xunit does not.
        string dir = AppContext.BaseDirectory;
        string[] files = ["Kcov.Fuzzing.TestHarness.dll", "Kcov.Fuzzing.dll", "xunit.assert.dll", "Kcov.Fuzzing.TestHarness.runtimeconfig.json"];
        var tokens = TokenDictionary.FromAssemblies(files.Select(f => Path.Combine(dir, f)))
            .Select(t => System.Text.Encoding.UTF8.GetString(t)).ToList();
        Assert.Contains("magic number reached", tokens);
        // A literal of Kcov.Fuzzing (a thread name), built at run time so this assembly has no copy.
        string fuzzerLiteral = string.Join("-", "kcov", "fuzz", "channel");
        Assert.DoesNotContain(fuzzerLiteral, tokens);
        Assert.Equal(tokens.Count, tokens.Distinct().Count());
    }

    [Fact]
    public void LoadedAssembliesAreTheOnesRead()
    {
        // This test assembly references the runtime and is loaded; its literals are there.
        var tokens = TokenDictionary.FromLoadedAssemblies().Select(t => System.Text.Encoding.UTF8.GetString(t)).ToList();
        Assert.Contains("a loaded literal", tokens);
    }
}
