using System.Globalization;
using System.Text;

namespace Kcov.Fuzzing.Options;

/// <summary>
/// All flags in one table (libFuzzer's FuzzerFlags.def idea): a flag is <c>-name=value</c>;
/// anything else on the command line is a corpus directory or an input file.
/// </summary>
internal static class FuzzerFlags
{
    public static readonly IReadOnlyList<FuzzerFlag> All =
    [
        Int("runs", "-1", "Number of inputs to run (-1: until stopped). Counts every execution of the campaign, over all executors.",
            (o, v) => o.Runs = v, min: -1),
        Int("max_total_time", "0", "If positive, stop the campaign after this many seconds.", (o, v) => o.MaxTotalTimeSeconds = (int)v),
        Int("max_len", "0", "Maximum input length in bytes. 0: the larger of 4096 and the largest corpus input.", (o, v) => o.MaxLen = (int)v, max: 64 << 20),
        Int("timeout", "1200", "An input that runs longer than this many seconds is a hang: the executor is killed and timeout-<sha1> is written. 0: no limit.",
            (o, v) => o.TimeoutSeconds = (int)v),
        Int("rss_limit_mb", "2048", "Memory limit in MB: the executor's RSS (read from /proc) and its GC heap may not exceed it; past it the input is saved as oom-<sha1>. 0: no limit.",
            (o, v) => o.RssLimitMb = (int)v),
        Str("dict", "", "Dictionary file in libFuzzer/AFL format (name=\"value\" or \"value\" lines, \\xNN escapes).", (o, v) => o.DictionaryPath = v),
        Int("seed", "0", "Random seed. 0: pick one and print it.", (o, v) => o.Seed = (uint)v, max: uint.MaxValue),
        Int("jobs", "0", "Number of fuzzing jobs. Here: executors fuzzing in parallel and sharing the corpus (see -workers).", (o, v) => o.Jobs = (int)v, max: 256),
        Int("workers", "0", "Number of executors run at once; 0: -fork if given, else -jobs capped at half the cores (at least 1).", (o, v) => o.Workers = (int)v, max: 256),
        Int("fork", "0", "If positive, fuzz with this many executor processes sharing the corpus (libFuzzer's fork mode; every campaign here runs its target in executors).",
            (o, v) => o.Fork = (int)v, max: 256),
        Int("ignore_crashes", "0", "If 1, a campaign goes on after a crash (each new signature is saved); else it stops at the first finding.",
            (o, v) => o.IgnoreCrashes = v != 0, max: 1),
        Int("ignore_timeouts", "0", "If 1, a campaign goes on after a timeout.", (o, v) => o.IgnoreTimeouts = v != 0, max: 1),
        Int("ignore_ooms", "0", "If 1, a campaign goes on after an out-of-memory.", (o, v) => o.IgnoreOoms = v != 0, max: 1),
        Int("merge", "0", "If 1, merge: the inputs of the 2nd, 3rd... corpus directories that add signal are copied into the 1st.", (o, v) => o.Merge = v != 0, max: 1),
        Str("merge_control_file", "", "With -merge=1: libFuzzer's merge control file, which records the inputs run so far; an interrupted merge goes on from it, and a later merge reuses its features.",
            (o, v) => o.MergeControlFile = v),
        Int("minimize_crash", "0", "If 1, shrink the crashing input given as a file while it keeps crashing with the same signature; -runs and -max_total_time bound the attempts.",
            (o, v) => o.MinimizeCrash = v != 0, max: 1),
        Int("cleanse_crash", "0", "If 1, replace each byte of the crashing input given as a file with ' ' or 0xff where the crash keeps its signature; writes -exact_artifact_path.",
            (o, v) => o.CleanseCrash = v != 0, max: 1),
        Int("print_final_stats", "0", "If 1, print statistics (stat::name: value) at the end.", (o, v) => o.PrintFinalStats = v != 0, max: 1),
        Int("close_fd_mask", "0", "If 1, drop the target's stdout; if 2, its stderr (crash reports are still read); 3: both.", (o, v) => o.CloseFdMask = (int)v, max: 3),
        Str("artifact_prefix", "", "Prefix of crash-/timeout-/oom- artifact paths (a directory ends with '/').", (o, v) => o.ArtifactPrefix = v),
        Str("exact_artifact_path", "", "Write the (first) artifact to exactly this path, ignoring -artifact_prefix.", (o, v) => o.ExactArtifactPath = v),
        Int("error_exitcode", "77", "Exit code when a crash was found.", (o, v) => o.ErrorExitCode = (int)v, max: 255),
        Int("timeout_exitcode", "70", "Exit code when a hang was found (and no crash).", (o, v) => o.TimeoutExitCode = (int)v, max: 255),
        Int("mutate_depth", "5", "Apply up to this many consecutive mutations to an input.", (o, v) => o.MutateDepth = (int)v, min: 1, max: 64),
        Int("cross_over", "1", "If 1, splice corpus inputs together (CrossOver).", (o, v) => o.CrossOver = v != 0, max: 1),
        Int("use_cmp", "1", "If 1, use comparison hints: re-run each new corpus input under KCOV_TRACE_CMP and substitute comparison operands.",
            (o, v) => o.UseCmp = v != 0, max: 1),
        Int("reduce_inputs", "1", "If 1, an input this campaign saved is removed from the corpus directory once smaller inputs own all its features (seeds never are).",
            (o, v) => o.ReduceInputs = v != 0, max: 1),
        Int("use_value_profile", "0", "If 1, the closeness of comparison operands is signal too (each input runs once more under KCOV_TRACE_CMP).",
            (o, v) => o.UseValueProfile = v != 0, max: 1),
        Int("entropic", "0", "If 1, pick corpus inputs by the entropic power schedule (energy from the rare features their mutants hit).",
            (o, v) => o.Entropic = v != 0, max: 1),
        Int("verbosity", "1", "0: quiet; 1: status lines; 2: also every corpus save.", (o, v) => o.Verbosity = (int)v, max: 9),
        Int("help", "0", "Print this help and exit.", (o, v) => o.Help = v != 0, max: 1),
        Int("detect_leaks", "1", "Accepted for libFuzzer's command lines; .NET has no leak detection (its memory is garbage-collected; a one-line note says so when set to 1).",
            (o, v) => { if (v != 0) o.Notes.Add("INFO: -detect_leaks=1 has no effect: .NET memory is garbage-collected, there is no LeakSanitizer"); }, max: 1),
        Str("focus_function", "", "Accepted for libFuzzer's command lines; ignored, with a one-line note (there is no focus-function mode).",
            (o, v) => o.Notes.Add($"INFO: -focus_function={v} has no effect: Kcov.Fuzzing has no focus-function mode")),
        Str("data_flow_trace", "", "Accepted for libFuzzer's command lines; ignored, with a one-line note (.NET has no DataFlowSanitizer).",
            (o, v) => o.Notes.Add($"INFO: -data_flow_trace={v} has no effect: .NET has no DataFlowSanitizer to collect a data-flow trace")),
        Int("auto_dict", "1", "If 1, use the string literals of the instrumented assemblies as dictionary tokens.",
            (o, v) => o.AutoDictionary = v != 0, max: 1, extension: true),
        Int("kcov_area_words", "1048576", "Size of the kcov area in 64-bit words; an input that runs more blocks overflows it (counted and reported).",
            (o, v) => o.AreaWords = (int)v, min: 1024, max: 1 << 28, extension: true),
        Int("use_call_hooks", "1", "If 1, the comparison hints include the operands of string, span, string-keyed collection, enum and number comparisons (call-site hooks, docs/trace-cmp-data.md) and they feed the dictionary of compared values.",
            (o, v) => o.UseCallHooks = v != 0, max: 1, extension: true),
        Int("kcov_unique", "0", "1: collect blocks in kcov's unique mode (KCOV_UNIQUE_ENABLE) instead of trace-pc: each block's PC is written once per input, in the order blocks are first reached, so a loop costs a bit test and repeated blocks no longer fill the area; there are no hit counts, and the edges are pairs of consecutive first hits, not of consecutive blocks. 2: unique mode, features are the blocks reached only. For fuzzing and -merge (reproducing and -minimize_crash run trace-pc; a crash's site is taken from one more trace-pc run); not for async targets (remote sections).",
            (o, v) => o.Unique = (int)v, max: 2, extension: true),
        Int("max_hints", "2048", "At most this many comparison-hint candidates are tried per corpus input.", (o, v) => o.MaxHints = (int)v, extension: true),
    ];

    /// <summary>
    /// Parses a libFuzzer command line. Unknown flags produce a warning (libFuzzer's
    /// behaviour: scripts that pass flags meant for another version keep working);
    /// a known flag with a bad value is an error.
    /// </summary>
    public static FuzzerOptions Parse(IReadOnlyList<string> args, out List<string> warnings)
    {
        var options = new FuzzerOptions();
        warnings = [];
        foreach (var arg in args)
        {
            if (arg.Length < 2 || arg[0] != '-')
            {
                options.Positional.Add(arg);
                continue;
            }
            string body = arg.TrimStart('-');
            int eq = body.IndexOf('=');
            string name = eq < 0 ? body : body[..eq];
            var flag = All.FirstOrDefault(f => f.Name == name);
            if (flag is null)
            {
                warnings.Add($"WARNING: unrecognized flag '{arg}'; use -help=1 to list all flags");
                continue;
            }
            if (eq < 0)
                throw new FuzzerUsageException($"flag '{arg}' needs a value: write -{name}=VALUE (see -help=1)");
            string? error = flag.Apply(options, body[(eq + 1)..]);
            if (error is not null)
                throw new FuzzerUsageException($"flag '{arg}': {error}");
        }
        return options;
    }

    /// <summary>The text of <c>-help=1</c>.</summary>
    public static string Help(string program)
    {
        var text = new StringBuilder();
        text.AppendLine($"Usage: {program} [-flag=value ...] [CORPUS_DIR ...] [INPUT_FILE ...]");
        text.AppendLine("  Directories are the corpus (new inputs are saved in the first); files alone mean: run each once (reproduce).");
        text.AppendLine("Flags (libFuzzer's names and meanings; + marks Kcov.NET's own):");
        int width = All.Max(f => f.Name.Length) + 1;
        foreach (var f in All)
            text.AppendLine($" {(f.Extension ? '+' : ' ')}{f.Name.PadRight(width)}\t{f.Default}\t{f.Help}");
        return text.ToString();
    }

    /// <summary>The flags as a Markdown table: docs/fuzzing.md carries it, and a test keeps the two equal.</summary>
    public static string MarkdownTable()
    {
        var text = new StringBuilder();
        text.AppendLine("| flag | default | meaning |");
        text.AppendLine("|---|---|---|");
        foreach (var f in All)
            text.AppendLine($"| `-{f.Name}` | {(f.Default.Length == 0 ? "" : $"`{f.Default}`")} | {(f.Extension ? "(Kcov.NET) " : "")}{f.Help.Replace("|", "\\|")} |");
        return text.ToString();
    }

    private static FuzzerFlag Int(string name, string dflt, string help, Action<FuzzerOptions, long> set,
        long min = 0, long max = int.MaxValue, bool extension = false) =>
        new(name, dflt, help, (o, text) =>
        {
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                return $"'{text}' is not an integer";
            if (v < min || v > max)
                return $"{v} is out of range; use {min} to {max}";
            set(o, v);
            return null;
        }, extension);

    private static FuzzerFlag Str(string name, string dflt, string help, Action<FuzzerOptions, string> set) =>
        new(name, dflt, help, (o, text) => { set(o, text); return null; });
}
