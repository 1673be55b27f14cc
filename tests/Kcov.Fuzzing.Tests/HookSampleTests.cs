namespace Kcov.Fuzzing.Tests;

/// <summary>
/// The call-site hook samples (string ==, a byte-span StartsWith, a Dictionary&lt;string, Handler&gt;
/// keyword, an Enum.Parse): from an empty corpus with a fixed seed, each bug is found within the budget
/// with the hooks and not within it without them. The auto dictionary is off in both runs, so that the
/// hooks alone make the difference (some of these keywords are also string literals of the target).
/// </summary>
public class HookSampleTests
{
    private const int Budget = 1_000;

    private static (int ExitCode, string Stderr) Fuzz(string sample, params string[] flags)
    {
        using var dir = new ScratchDirectory();
        var (exit, _, stderr) = InstrumentedSamples.Run(dir.Path, sample, [$"-runs={Budget}", "-seed=1", "-auto_dict=0", .. flags, "corpus"]);
        return (exit, stderr);
    }

    [Theory]
    [InlineData("header", "InvalidDataException: planted bug: a KCOVNET/2.0 header was accepted")]
    [InlineData("pdf", "NotSupportedException: planted bug: PDF 1.9 is not a version")]
    [InlineData("command", "InvalidOperationException: planted bug: truncate")]
    [InlineData("enum", "InvalidOperationException: planted bug: the Detonate opcode was parsed")]
    public void FoundWithTheHooksAndNotWithoutThemInTheSameBudget(string sample, string bug)
    {
        var with = Fuzz(sample);
        Assert.True(with.ExitCode == 77, with.Stderr);
        Assert.Contains(bug, with.Stderr);

        var without = Fuzz(sample, "-use_call_hooks=0");
        Assert.Equal(0, without.ExitCode);
        Assert.DoesNotContain("planted bug", without.Stderr);
    }
}
