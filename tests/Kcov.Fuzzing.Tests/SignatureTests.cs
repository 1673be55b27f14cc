using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// Findings are deduplicated on the throwing block, the last block of the input's kcov trace when the
/// exception was thrown: one bug reached from three callers is one finding, and a fresh process names
/// the same block as the warm campaign.
/// </summary>
public class SignatureTests
{
    private static string ThrownIn(string stderr) =>
        Regex.Match(stderr, @"Thrown in block \(last block of the kcov trace\): (.*)").Groups[1].Value.Trim();

    [Fact]
    public void OneBugReachedFromThreeCallersIsOneFindingNamedTheSameInAFreshProcess()
    {
        using var dir = new ScratchDirectory();
        dir.Write("seeds/a", "aX");
        dir.Write("seeds/b", "bX");
        dir.Write("seeds/c", "cX");
        // The campaign goes on after the first finding, meeting the bug through the other two callers.
        var campaign = InstrumentedSamples.Run(dir.Path, "threecallers", "-runs=200", "-seed=1", "-ignore_crashes=1", "-artifact_prefix=art/", "corpus", "seeds");
        Assert.True(campaign.ExitCode == 77, campaign.Stderr);
        string artifact = Assert.Single(Directory.GetFiles(dir["art"], "crash-*"));
        string site = ThrownIn(campaign.Stderr);
        Assert.Matches(@"^0x[0-9a-f]{16} Kcov\.Samples\.Targets\.ThreeCallersTarget\.Check \S*ThreeCallersTarget\.cs:\d+$", site);

        // Each of the three inputs, alone in a fresh process: the same block.
        foreach (var input in new[] { "a", "b", "c" })
        {
            var fresh = InstrumentedSamples.Run(dir.Path, "threecallers", dir["seeds/" + input]);
            Assert.Equal(77, fresh.ExitCode);
            Assert.Equal(site, ThrownIn(fresh.Stderr));
        }
        Assert.Equal(site, ThrownIn(InstrumentedSamples.Run(dir.Path, "threecallers", artifact).Stderr));
    }
}
