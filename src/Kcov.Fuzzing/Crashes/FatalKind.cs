namespace Kcov.Fuzzing.Crashes;

/// <summary>What the .NET runtime reported when it ended a process (see <see cref="RuntimeLastWords"/>).</summary>
internal enum FatalKind
{
    /// <summary>"Stack overflow.": the stack of a thread ran out.</summary>
    StackOverflow,
    /// <summary>"Process terminated.": Environment.FailFast (the runtime then aborts the process).</summary>
    FailFast,
    /// <summary>"Unhandled exception.": an exception no code caught, on a thread other than the executor's.</summary>
    UnhandledException,
    /// <summary>"Fatal error.": a failure of the runtime itself.</summary>
    FatalError,
}
