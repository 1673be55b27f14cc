using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Kcov.Tests;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// Faults at the worst moments, each with what must hold afterwards. SIGKILLs are real (the process
/// kills itself at the named point: <see cref="FaultInjection"/>); a full disk is a real tmpfs with a
/// few KiB free; EACCES is injected (these tests run as root, which permissions do not stop). Every
/// campaign runs with a /dev/shm of its own (<see cref="PrivateShm"/>) that must be empty afterwards.
/// Bounded in executions: a few seconds each.
/// </summary>
public class FaultInjectionTests
{
    /// <summary>
    /// The executor is SIGKILLed once, at a seeded random arrival at a point of its loop: mid-input,
    /// while sending a new corpus input (the message is cut in half), while sending a crash report.
    /// The campaign goes on to -runs with a new executor; every input it said it saved is there and whole.
    /// </summary>
    [Theory]
    [InlineData("input", 11)]
    [InlineData("input", 12)]
    [InlineData("send-NewInput", 21)]
    [InlineData("send-NewInput", 22)]
    [InlineData("send-Crash", 31)]
    public void AnExecutorKilledAnywhereInItsLoopCostsNothingSaved(string point, int seed)
    {
        using var dir = new ScratchDirectory();
        int at = point == "send-Crash" ? 1 : new Random(seed).Next(1, point == "input" ? 400 : 8);
        string target = point == "send-Crash" ? "magic" : "paths";
        // -ignore_crashes=1: the campaign goes on past the executor's death (a finding when it was killed in an input).
        var (exit, stderr, shmLeft) = Run(dir, [target, "-runs=3000", $"-seed={seed}", "-ignore_crashes=1", "-verbosity=2", "-print_final_stats=1", "-artifact_prefix=art/", "corpus"],
            new() { [FaultInjection.EnvironmentVariable] = $"{point}@{at}=kill", [FaultInjection.OnceVariable] = dir["fault-once"] });

        Assert.True(File.Exists(dir["fault-once"]), $"the fault at {point}@{at} never happened:\n{stderr}");
        Assert.Matches(@"#3000\tDONE ", stderr);
        Assert.Matches(@"stat::executor_restarts: [1-9]", stderr);
        Assert.Equal(point == "input" || target == "magic" ? 77 : 0, exit);
        AssertSavedInputsWhole(dir, stderr);
        Assert.Empty(shmLeft);
    }

    /// <summary>
    /// The supervisor is SIGKILLed while a corpus file is half written: no corpus file is torn (the
    /// half is a temporary dot-file), its executor goes away by itself, and the next campaign on the
    /// corpus loads it and runs.
    /// </summary>
    [Fact]
    public void TheSupervisorKilledMidSaveLeavesNoTornFile()
    {
        using var dir = new ScratchDirectory();
        var (exit, stderr, shmLeft) = Run(dir, ["paths", "-runs=100000", "-seed=5", "-verbosity=2", "corpus"],
            new() { [FaultInjection.EnvironmentVariable] = "corpus-save@6=kill" });

        Assert.Equal(137, exit); // SIGKILL
        Assert.Equal(5, Regex.Matches(stderr, "INFO: saved ").Count);
        Assert.Single(Directory.GetFiles(dir["corpus"], ".*.tmp")); // the half-written one
        AssertSavedInputsWhole(dir, stderr);
        Assert.Empty(shmLeft);

        var again = HarnessProcess.RunPrivateShm(dir.Path, HarnessProcess.Dll, ["paths", "-runs=500", "-seed=6", "corpus"]);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("INFO: 5 files found in corpus", again.Stderr);
        Assert.Matches(@"#500\tDONE ", again.Stderr);
    }

    /// <summary>
    /// The corpus directory's file system is full (a real ENOSPC): the campaign stops with one line
    /// saying so, and what it saved before is whole.
    /// </summary>
    [Fact]
    public void AFullCorpusDirectoryStopsTheCampaignWithOneLine()
    {
        using var dir = new ScratchDirectory();
        var (exit, stderr, shmLeft) = Run(dir, ["paths", "-runs=100000", "-seed=7", "corpus"], [], full: false, [("corpus", 8)],
            after: "for f in corpus/[!.]*; do [ \"$(sha1sum < \"$f\" | cut -c1-40)\" = \"$(basename \"$f\")\" ] || echo \"TORN $f\"; done; ");

        Assert.Equal(1, exit);
        Assert.Matches(@"^ERROR: No space left on device[^\n]*Check the corpus and artifact paths, their permissions and free space\.$", LastLine(stderr));
        Assert.DoesNotContain("   at ", stderr);
        Assert.Empty(shmLeft);
    }

    /// <summary>
    /// The artifact directory is full when a crash is found: the report and the input (Base64) are on
    /// stderr before the one-line error, so the finding is not lost with the file.
    /// </summary>
    [Fact]
    public void AFullArtifactDirectoryLosesNoFinding()
    {
        using var dir = new ScratchDirectory();
        var (exit, stderr, shmLeft) = Run(dir, ["magic", "-runs=100000", "-seed=8", "-artifact_prefix=art/", "corpus"], [], full: false, [("art", 0)], after: "");

        Assert.Equal(1, exit);
        Assert.Matches(@"Test unit NOT written to art/crash-[0-9a-f]{40}: No space left on device", stderr);
        Assert.Matches(@"\nBase64: 776t3[^\n]*\n", stderr); // DE AD BE EF, the planted magic number
        Assert.StartsWith("ERROR: No space left on device", LastLine(stderr));
        Assert.Empty(shmLeft);
    }

    /// <summary>EACCES on the corpus or the artifact directory (injected): one line, and nothing torn.</summary>
    [Theory]
    [InlineData("paths", "corpus-save")]
    [InlineData("magic", "artifact-save")]
    public void PermissionDeniedStopsTheCampaignWithOneLine(string target, string point)
    {
        using var dir = new ScratchDirectory();
        var (exit, stderr, shmLeft) = Run(dir, [target, "-runs=100000", "-seed=9", "-verbosity=2", "-artifact_prefix=art/", "corpus"],
            new() { [FaultInjection.EnvironmentVariable] = $"{point}@1=eacces" });

        Assert.Equal(1, exit);
        Assert.Matches(@"^ERROR: Access to the path '[^']+' is denied\. Check the corpus and artifact paths, their permissions and free space\.$", LastLine(stderr));
        // (A crash report has the target's stack; the fuzzer's own must not show.)
        Assert.DoesNotContain("at Kcov.Fuzzing.Supervisor", stderr);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
        AssertSavedInputsWhole(dir, stderr);
        Assert.Empty(shmLeft);
    }

    /// <summary>
    /// Someone truncates one corpus file and replaces another while the campaign runs: it goes on to
    /// the end, never rewrites or removes the replaced file, and what it saves is whole.
    /// </summary>
    [Fact]
    public void CorpusFilesTruncatedOrReplacedWhileRunningAreLeftToTheirOwner()
    {
        using var dir = new ScratchDirectory();
        using var h = HarnessProcess.Start(dir.Path, HarnessProcess.Dll, ["paths", "-runs=20000", "-seed=10", "-verbosity=2", "corpus"], privateShm: true);
        Assert.True(h.WaitForLines(l => l.StartsWith("INFO: saved ", StringComparison.Ordinal), 4), h.Stderr);
        var saved = h.StderrLines.Where(l => l.StartsWith("INFO: saved ", StringComparison.Ordinal)).Select(l => l["INFO: saved ".Length..]).ToList();
        File.WriteAllBytes(Path.Combine(dir.Path, saved[0]), []);
        File.WriteAllText(Path.Combine(dir.Path, saved[1]), "the user's own content");
        h.WaitForExit();

        Assert.Equal(0, h.Process.ExitCode);
        Assert.Matches(@"#20000\tDONE ", h.Stderr);
        Assert.Equal("the user's own content", File.ReadAllText(Path.Combine(dir.Path, saved[1])));
        AssertSavedInputsWhole(dir, h.Stderr, except: [saved[0], saved[1]]);
        Assert.Empty(h.SharedMemoryLeft);
    }

    /// <summary>/dev/shm has no free byte: nothing the fuzzer needs lives there, so the campaign runs as usual.</summary>
    [Fact]
    public void AFullDevShmChangesNothing()
    {
        using var dir = new ScratchDirectory();
        var (exit, stderr, shmLeft) = Run(dir, ["paths", "-runs=2000", "-seed=11", "-jobs=2", "corpus"], [], full: true, [], after: "");

        Assert.Equal(0, exit);
        Assert.Matches(@"#2000\tDONE ", stderr);
        Assert.Empty(shmLeft);
    }

    private static (int Exit, string Stderr, string[] ShmLeft) Run(ScratchDirectory dir, string[] args, Dictionary<string, string> environment) =>
        Run(dir, args, environment, full: false, [], after: "");

    private static (int Exit, string Stderr, string[] ShmLeft) Run(ScratchDirectory dir, string[] args, Dictionary<string, string> environment,
        bool full, (string, int)[] smallDirectories, string after)
    {
        using var h = HarnessProcess.Start(dir.Path, HarnessProcess.Dll, args, info => PrivateShm.Wrap(info, full, smallDirectories, after), environment);
        h.WaitForExit();
        string output = PrivateShm.Output(h.Stdout);
        Assert.DoesNotContain("TORN ", output);
        return (h.Process.ExitCode, h.Stderr, h.SharedMemoryLeft);
    }

    private static string LastLine(string stderr) => stderr.Trim().Split('\n').Last().Trim();

    /// <summary>Every input reported saved exists, and every corpus file is named by the SHA-1 of its content.</summary>
    private static void AssertSavedInputsWhole(ScratchDirectory dir, string stderr, string[]? except = null)
    {
        // -reduce_inputs=1 removes a saved input once smaller ones own its features, and says so.
        var removed = Regex.Matches(stderr, @"INFO: removed ([0-9a-f]{40}):").Select(m => m.Groups[1].Value).ToHashSet();
        foreach (Match m in Regex.Matches(stderr, @"INFO: saved (\S+)"))
            Assert.True(File.Exists(Path.Combine(dir.Path, m.Groups[1].Value)) || removed.Contains(Path.GetFileName(m.Groups[1].Value)),
                $"{m.Groups[1].Value} was reported saved but is missing (and not reported removed)");
        if (!Directory.Exists(dir["corpus"]))
            return;
        foreach (var path in Directory.GetFiles(dir["corpus"]).Where(p => !Path.GetFileName(p).StartsWith('.')))
        {
            if (except?.Any(e => Path.GetFullPath(Path.Combine(dir.Path, e)) == path) == true)
                continue;
            Assert.Equal(Path.GetFileName(path), Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(path))));
        }
    }
}
