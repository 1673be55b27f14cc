using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// Nothing reported as saved is lost: the supervisor of a campaign on instrumented Markdig is
/// killed with SIGKILL in the middle of it, every corpus file it had reported is there and whole, its executor goes away by
/// itself, and a new campaign on the same corpus loads them all and goes on.
/// </summary>
public class SupervisorKillTests
{
    private const int SavesBeforeKill = 25;

    [Fact]
    public void SigkillLosesNothingThatWasReportedSaved()
    {
        using var dir = new ScratchDirectory();
        string corpus = dir["corpus"];
        List<string> saved;
        HashSet<string> removed;
        string[] shmLeft;
        using (var h = HarnessProcess.Start(dir.Path, InstrumentedSamples.Dll, ["markdown", "-runs=100000000", "-seed=4", "-verbosity=2", corpus], privateShm: true))
        {
            Assert.True(h.WaitForLines(IsSave, SavesBeforeKill), $"the campaign ended early:\n{h.Stderr}");
            Process.GetProcessById(h.SupervisorPid).Kill(entireProcessTree: false); // SIGKILL to the supervisor alone
            h.WaitForExit(); // the wrapper lists /dev/shm once the executor is gone too
            saved = h.StderrLines.Where(IsSave).Select(l => l["INFO: saved ".Length..]).ToList();
            // -reduce_inputs=1 removes a saved input once smaller ones own its features, and says so.
            removed = h.StderrLines.Select(l => Regex.Match(l, @"^INFO: removed ([0-9a-f]{40}):")).Where(m => m.Success)
                .Select(m => m.Groups[1].Value).ToHashSet();
            shmLeft = h.SharedMemoryLeft;
        }
        Assert.True(saved.Count >= SavesBeforeKill);
        saved.RemoveAll(path => removed.Contains(Path.GetFileName(path)));

        foreach (var path in saved)
        {
            Assert.True(File.Exists(path), $"{path} was reported saved but is missing (and not reported removed)");
            Assert.Equal(Path.GetFileName(path), Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(path))));
        }
        // Every non-temporary file in the corpus is whole, reported or not.
        foreach (var path in Directory.GetFiles(corpus).Where(p => !Path.GetFileName(p).StartsWith('.')))
            Assert.Equal(Path.GetFileName(path), Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(path))));

        // The orphaned executor notices the closed channel and exits; the memfds go with the last of them.
        Assert.True(WaitUntilNoProcessMentions(corpus), "an executor outlived its supervisor");
        Assert.Empty(shmLeft);

        var restart = InstrumentedSamples.Run(dir.Path, "markdown", "-runs=500", "-seed=5", corpus);
        Assert.Equal(0, restart.ExitCode);
        int found = int.Parse(Regex.Match(restart.Stderr, @"INFO: (\d+) files found in").Groups[1].Value);
        Assert.True(found >= saved.Count, $"{found} files found, {saved.Count} were reported saved");
        Assert.Matches(@"#500\tDONE ", restart.Stderr);
    }

    private static bool IsSave(string line) => line.StartsWith("INFO: saved ", StringComparison.Ordinal);

    private static bool WaitUntilNoProcessMentions(string text)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            bool any = false;
            foreach (var proc in Directory.GetDirectories("/proc").Where(d => char.IsAsciiDigit(Path.GetFileName(d)[0])))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(proc, "cmdline")).Contains(text, StringComparison.Ordinal))
                        any = true;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
            if (!any)
                return true;
            Thread.Sleep(50);
        }
        return false;
    }
}
