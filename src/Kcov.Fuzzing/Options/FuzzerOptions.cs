namespace Kcov.Fuzzing.Options;

/// <summary>The parsed command line; the defaults are the flag table's.</summary>
internal sealed class FuzzerOptions
{
    public long Runs { get; set; } = -1;
    public int MaxTotalTimeSeconds { get; set; }
    public int MaxLen { get; set; }
    public int TimeoutSeconds { get; set; } = 1200;
    public int RssLimitMb { get; set; } = 2048;
    public string DictionaryPath { get; set; } = "";
    public uint Seed { get; set; }
    public int Jobs { get; set; }
    public int Workers { get; set; }
    public int Fork { get; set; }
    public bool IgnoreCrashes { get; set; }
    public bool IgnoreTimeouts { get; set; }
    public bool IgnoreOoms { get; set; }
    public bool Merge { get; set; }
    public string MergeControlFile { get; set; } = "";
    public bool MinimizeCrash { get; set; }
    public bool CleanseCrash { get; set; }
    public bool PrintFinalStats { get; set; }
    public int CloseFdMask { get; set; }
    public string ArtifactPrefix { get; set; } = "";
    public string ExactArtifactPath { get; set; } = "";
    public int ErrorExitCode { get; set; } = 77;
    public int TimeoutExitCode { get; set; } = 70;
    public int MutateDepth { get; set; } = 5;
    public bool CrossOver { get; set; } = true;
    public bool UseCmp { get; set; } = true;
    public bool ReduceInputs { get; set; } = true;
    public bool UseCallHooks { get; set; } = true;
    public bool Entropic { get; set; }
    public bool UseValueProfile { get; set; }
    public int Verbosity { get; set; } = 1;
    public bool Help { get; set; }
    public bool AutoDictionary { get; set; } = true;
    public int AreaWords { get; set; } = 1 << 20;
    public int MaxHints { get; set; } = 2048;

    /// <summary>-kcov_unique: 0 trace-pc; 1 unique mode, blocks and first-hit pairs; 2 unique mode, blocks only.</summary>
    public int Unique { get; set; }

    /// <summary>libFuzzer's exit code for an out-of-memory finding (not configurable there either).</summary>
    public const int OomExitCode = 71;

    /// <summary>Corpus directories and input files, in command-line order.</summary>
    public List<string> Positional { get; } = [];

    /// <summary>One-line notes about accepted flags that have no effect here.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Executors running at once: -workers, else -fork, else -jobs capped at half the cores, at least 1.</summary>
    public int ExecutorCount =>
        Workers > 0 ? Workers : Fork > 0 ? Fork : Math.Max(1, Math.Min(Jobs, Math.Max(1, Environment.ProcessorCount / 2)));

    /// <summary>Whether a campaign goes on after a finding of this kind (-ignore_crashes, -ignore_timeouts, -ignore_ooms).</summary>
    public bool Ignores(Crashes.ArtifactKind kind) => kind switch
    {
        Crashes.ArtifactKind.Timeout => IgnoreTimeouts,
        Crashes.ArtifactKind.Oom => IgnoreOoms,
        _ => IgnoreCrashes,
    };
}
