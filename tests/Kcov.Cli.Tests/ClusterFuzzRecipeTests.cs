using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Kcov.Cli.Tests;

/// <summary>
/// The OSS-Fuzz / ClusterFuzzLite recipe (docs/clusterfuzz.md): samples/ClusterFuzz/build.sh builds
/// the records harness into $OUT (the harness is already compiled by this test project, so the
/// script publishes it with --no-build), and the wrapper it writes is run with the command lines
/// ClusterFuzz's libFuzzer engine uses: fuzzing, single- and two-step merge, reproduction with
/// -runs=100, minimization and cleansing. The harness is a top-level <c>Fuzzer.Run(args, ...);</c>
/// without <c>return</c>: its exit codes come from Fuzzer.Run setting the process's.
/// </summary>
public sealed class ClusterFuzzRecipeTests(ClusterFuzzRecipeTests.Build build) : IClassFixture<ClusterFuzzRecipeTests.Build>
{
    private const string Fuzzer = "records_fuzzer";

    /// <summary>Runs build.sh once for the class, in a scratch $OUT and $WORK.</summary>
    public sealed class Build : IDisposable
    {
        private readonly TempDirectory _dir = new();

        public Build()
        {
            Out = _dir.Combine("out");
            Directory.CreateDirectory(Out);
            Directory.CreateDirectory(_dir.Combine("work"));
            var env = new Dictionary<string, string>
            {
                ["OUT"] = Out,
                ["WORK"] = _dir.Combine("work"),
                ["KCOV"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "dotnet-kcov.dll")}",
                ["DOTNET_PUBLISH_FLAGS"] = "--no-build --no-restore",
            };
            Result = Run("bash", [Path.Combine("samples", "ClusterFuzz", "build.sh")], RepositoryRoot(), env);
        }

        public string Out { get; }

        public (int ExitCode, string Output) Result { get; }

        public string Wrapper => Path.Combine(Out, Fuzzer);

        public string Scratch(string name)
        {
            string path = _dir.Combine(name);
            Directory.CreateDirectory(path);
            return path;
        }

        public void Dispose() => _dir.Dispose();
    }

    [Fact]
    public void BuildShWritesTheWrapperAndWhatClusterFuzzReadsBesideIt()
    {
        Assert.True(build.Result.ExitCode == 0, build.Result.Output);
        string wrapper = File.ReadAllText(build.Wrapper);
        // How ClusterFuzz recognizes a fuzz target, and a libFuzzer that can merge in two steps.
        Assert.Contains("LLVMFuzzerTestOneInput", wrapper);
        Assert.Contains("fuzz target overwrites its const input", wrapper);
        if (!OperatingSystem.IsWindows())
            Assert.True(File.GetUnixFileMode(build.Wrapper).HasFlag(UnixFileMode.UserExecute));
        Assert.True(File.Exists(Path.Combine(build.Out, $"{Fuzzer}.kcov", "Kcov.Samples.Targets.kcovmap")));
        Assert.Contains("max_len = 1024", File.ReadAllText(Path.Combine(build.Out, $"{Fuzzer}.options")));
        Assert.True(File.Exists(Path.Combine(build.Out, $"{Fuzzer}.dict")));
        using var seeds = ZipFile.OpenRead(Path.Combine(build.Out, $"{Fuzzer}_seed_corpus.zip"));
        Assert.Equal(3, seeds.Entries.Count);
    }

    [Fact]
    public void FuzzingStopsAtTheFirstCrashAndWritesItUnderTheArtifactPrefix()
    {
        string corpus = Seeds();
        string fresh = build.Scratch("fuzz-new"), artifacts = build.Scratch("fuzz-artifacts");
        // ClusterFuzz: its defaults, the .options and .dict, a strategy or two, then the corpora.
        var (exit, output) = Wrapper("-timeout=25", "-rss_limit_mb=2560", "-max_len=1024", $"-dict={Path.Combine(build.Out, $"{Fuzzer}.dict")}",
            "-use_value_profile=1", "-fork=2", $"-artifact_prefix={artifacts}/", "-max_total_time=300", "-print_final_stats=1", fresh, corpus);
        Assert.True(exit == 77, output);
        var written = Regex.Matches(output, @"Test unit written to (\S+)");
        string crash = Assert.Single(written).Groups[1].Value;
        Assert.StartsWith(Path.Combine(artifacts, "crash-"), crash);
        Assert.Equal(crash, Assert.Single(Directory.GetFiles(artifacts)));
        Assert.Matches(@"(?m)^INFO: Loaded 1 modules \(\d+ kcov trace-pc sites\): Kcov\.Samples\.Targets \(\d+\)$", output);
        Assert.Contains("==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target: System.", output);
        Assert.Matches(@"(?m)^stat::number_of_executed_units: \d+$", output);
        Assert.Matches(@"(?m)^stat::slowest_unit_time_sec: \d+$", output);
        Assert.NotEmpty(Directory.GetFiles(fresh));
    }

    [Fact]
    public void ASingleStepMergeKeepsTheSignalAndSetsCrashingInputsAside()
    {
        string corpus = Seeds();
        string fresh = build.Scratch("merge1-new"), merged = build.Scratch("merge1-out"), bad = build.Scratch("merge1-bad");
        File.WriteAllBytes(Path.Combine(fresh, "divide"), "RECA\0"u8.ToArray());
        File.WriteAllBytes(Path.Combine(fresh, "longer"), "RECS\u0001ab"u8.ToArray());
        var (exit, output) = Wrapper("-timeout=25", "-rss_limit_mb=2560", "-merge=1", $"-artifact_prefix={bad}/", merged, corpus, fresh);
        Assert.True(exit == 0, output);
        var (files, features, edges) = MergeOuter(output);
        Assert.Equal(files, Directory.GetFiles(merged).Length);
        Assert.True(files is > 0 and < 5 && features > 0 && edges > 0, output);
        // The crashing input was reported and written for ClusterFuzz to set aside; it is not merged.
        Assert.Contains("==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target: System.DivideByZeroException", output);
        Assert.Equal("RECA\0", File.ReadAllText(Assert.Single(Directory.GetFiles(bad, "crash-*"))));
        Assert.DoesNotContain(Directory.GetFiles(merged), f => File.ReadAllText(f) == "RECA\0");
    }

    [Fact]
    public void ATwoStepMergeCountsWhatTheNewInputsAdd()
    {
        string corpus = Seeds();
        string fresh = build.Scratch("merge2-new"), merged = build.Scratch("merge2-out"), control = Path.Combine(build.Scratch("merge2-mcf"), "MCF");
        // An empty text record: a branch the seed corpus does not take.
        File.WriteAllBytes(Path.Combine(fresh, "text"), "RECS"u8.ToArray());
        var step1 = Wrapper("-timeout=25", "-rss_limit_mb=2560", "-merge=1", $"-merge_control_file={control}", merged, corpus);
        Assert.True(step1.ExitCode == 0, step1.Output);
        Directory.Delete(merged, recursive: true);
        Directory.CreateDirectory(merged);
        var step2 = Wrapper("-timeout=25", "-rss_limit_mb=2560", "-merge=1", $"-merge_control_file={control}", merged, corpus, fresh);
        Assert.True(step2.ExitCode == 0, step2.Output);
        var (_, features1, edges1) = MergeOuter(step1.Output);
        var (files2, features2, edges2) = MergeOuter(step2.Output);
        // ClusterFuzz's new_features and new_edges: step 2 minus step 1.
        Assert.True(features2 > features1 && edges2 > edges1, step2.Output);
        Assert.Equal(files2, Directory.GetFiles(merged).Length);
        Assert.Contains("MERGE-OUTER: starting merge from scratch, but reusing coverage information from the given control file", step2.Output);
    }

    [Fact]
    public void ReproductionRunsTheInputAHundredTimesAndFailsWithTheCrash()
    {
        string dir = build.Scratch("reproduce");
        string crash = Path.Combine(dir, "crash");
        File.WriteAllBytes(crash, "RECS\u0009ab"u8.ToArray());
        var (exit, output) = Wrapper("-rss_limit_mb=2560", "-timeout=20", "-runs=100", crash);
        Assert.True(exit == 77, output);
        Assert.Contains("==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target: System.ArgumentOutOfRangeException", output);
        Assert.Matches(@"(?m)^   at Kcov\.Samples\.Targets\.RecordsTarget\.Text\(ReadOnlySpan`1\)", output);

        string fine = Path.Combine(dir, "fine");
        File.WriteAllBytes(fine, "RECS\u0002ab"u8.ToArray());
        var ok = Wrapper("-rss_limit_mb=2560", "-timeout=20", "-runs=100", fine);
        Assert.True(ok.ExitCode == 0, ok.Output);
        Assert.Contains("INFO: running 1 inputs 100 time(s) each.", ok.Output);
    }

    [Fact]
    public void MinimizationWritesASmallerInputThatStillCrashes()
    {
        string dir = build.Scratch("minimize");
        string crash = Path.Combine(dir, "crash"), minimized = Path.Combine(dir, "minimized");
        File.WriteAllBytes(crash, "RECA\0 and a tail that does not matter"u8.ToArray());
        var (exit, output) = Wrapper("-rss_limit_mb=2560", "-timeout=60", "-max_total_time=60", $"-exact_artifact_path={minimized}",
            "-minimize_crash=1", $"-artifact_prefix={build.Scratch("minimize-tmp")}/", crash);
        Assert.True(exit == 0, output);
        Assert.True(new FileInfo(minimized).Length < new FileInfo(crash).Length, output);
        Assert.Equal(77, Wrapper("-runs=100", minimized).ExitCode);
    }

    [Fact]
    public void CleansingReplacesTheBytesThatDoNotMatter()
    {
        string dir = build.Scratch("cleanse");
        string crash = Path.Combine(dir, "crash"), cleansed = Path.Combine(dir, "cleansed");
        File.WriteAllBytes(crash, "RECS\u0009abc"u8.ToArray());
        var (exit, output) = Wrapper("-rss_limit_mb=2560", "-timeout=60", "-cleanse_crash=1", $"-exact_artifact_path={cleansed}",
            $"-artifact_prefix={build.Scratch("cleanse-tmp")}/", crash);
        Assert.True(exit == 0, output);
        // The length byte only has to exceed the record: a space (32) does.
        Assert.Equal("RECS    "u8.ToArray(), File.ReadAllBytes(cleansed));
        Assert.Equal(77, Wrapper("-runs=100", cleansed).ExitCode);
    }

    /// <summary>The seed corpus ClusterFuzz unpacks from records_fuzzer_seed_corpus.zip.</summary>
    private string Seeds()
    {
        string corpus = build.Scratch($"corpus-{Guid.NewGuid():N}");
        ZipFile.ExtractToDirectory(Path.Combine(build.Out, $"{Fuzzer}_seed_corpus.zip"), corpus);
        return corpus;
    }

    private (int ExitCode, string Output) Wrapper(params string[] args)
    {
        Assert.True(build.Result.ExitCode == 0, build.Result.Output);
        return Run(build.Wrapper, args, build.Out, []);
    }

    private static (int Files, int Features, int Edges) MergeOuter(string output)
    {
        var m = Regex.Match(output, @"(?m)^MERGE-OUTER: (\d+) new files with (\d+) new features added; (\d+) new coverage edges$");
        Assert.True(m.Success, output);
        return (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value));
    }

    /// <summary>Runs a program with stdout and stderr in one stream, as ClusterFuzz reads a target's output.</summary>
    private static (int ExitCode, string Output) Run(string file, IEnumerable<string> args, string cwd, Dictionary<string, string> env)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        foreach (var (name, value) in env)
            start.Environment[name] = value;
        var output = new System.Text.StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        // Only a guard against a wedged child: tests never assert on time.
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish:\n{output}");
        }
        process.WaitForExit();
        lock (output)
            return (process.ExitCode, output.ToString());
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Kcov.slnx")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("no Kcov.slnx above the test directory");
    }
}
