namespace Kcov.Fuzzing.Crashes;

/// <summary>The kinds of finding, named by their libFuzzer artifact prefix.</summary>
internal enum ArtifactKind
{
    /// <summary>crash-: an exception, a stack overflow, FailFast, any other death of the executor.</summary>
    Crash,
    /// <summary>timeout-: an input ran longer than -timeout.</summary>
    Timeout,
    /// <summary>oom-: OutOfMemoryException, or the executor's RSS went over -rss_limit_mb.</summary>
    Oom,
}
