using Kcov.Coverage;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Findings of a campaign: one artifact per signature (crash-/timeout-/oom-&lt;sha1&gt; under
/// -artifact_prefix, or -exact_artifact_path), written atomically, with the report on stderr.
/// </summary>
internal sealed class Artifacts(FuzzerOptions options, StatusPrinter status)
{
    private readonly HashSet<string> _signatures = [];

    public int Crashes { get; private set; }
    public int Timeouts { get; private set; }
    public int Ooms { get; private set; }

    /// <summary>Paths written, in order.</summary>
    public List<string> Written { get; } = [];

    /// <summary>
    /// Saves a finding unless its signature was already saved; returns the path, or null for a
    /// duplicate. With <paramref name="everyInput"/> (a merge: each crashing input of a corpus is
    /// a bad unit to set aside) a duplicate is saved too, with one line instead of the report.
    /// </summary>
    public string? Save(ArtifactKind kind, string signature, byte[] input, string reportText, long execs, bool everyInput = false)
    {
        bool first = _signatures.Add(signature);
        if (!first && !everyInput)
            return null;
        switch (kind)
        {
            case ArtifactKind.Timeout: Timeouts++; break;
            case ArtifactKind.Oom: Ooms++; break;
            default: Crashes++; break;
        }
        string path = options.ExactArtifactPath.Length > 0 && Written.Count == 0
            ? options.ExactArtifactPath
            : $"{options.ArtifactPrefix}{CrashReport.Prefix(kind)}-{CorpusDirectory.Sha1(input)}";
        string found = $"INFO: found after {execs} executions{Environment.NewLine}";
        string base64 = input.Length <= 4096 ? $"Base64: {Convert.ToBase64String(input)}{Environment.NewLine}" : "";
        try
        {
            AtomicFile.Write(path, stream =>
            {
                stream.Write(input, 0, input.Length / 2);
                if (FaultInjection.Hit("artifact-save"))
                    FaultInjection.Act("artifact-save", path);
                stream.Write(input, input.Length / 2, input.Length - input.Length / 2);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The finding is not lost with the file: the report and the input go to stderr first.
            status.Report($"{CrashReport.Prefix(kind)}: {signature} (not written)", reportText + found +
                $"artifact_prefix='{options.ArtifactPrefix}'; Test unit NOT written to {path}: {e.Message}{Environment.NewLine}" + base64);
            throw;
        }
        Written.Add(path);
        string written = $"artifact_prefix='{options.ArtifactPrefix}'; Test unit written to {path}{Environment.NewLine}";
        if (!first)
        {
            status.Report($"{CrashReport.Prefix(kind)}: {signature} -> {path}", $"INFO: {CrashReport.Prefix(kind)} again: {signature}{Environment.NewLine}{written}");
            return path;
        }
        written = found + written + base64;
        status.Report($"{CrashReport.Prefix(kind)}: {signature} -> {path}", reportText + written);
        return path;
    }

    /// <summary>The campaign's exit code: a crash first, then a hang, then an out-of-memory; 0 if none.</summary>
    public int ExitCode =>
        Crashes > 0 ? options.ErrorExitCode
        : Timeouts > 0 ? options.TimeoutExitCode
        : Ooms > 0 ? FuzzerOptions.OomExitCode
        : 0;
}
