namespace Kcov.Fuzzing.Executor;

/// <summary>What the supervisor's Start message asks an executor to do.</summary>
internal enum ExecutorMode
{
    Fuzz = 0,
    /// <summary>Run each input once and report its features (-merge=1).</summary>
    Merge = 1,
    /// <summary>Shrink one crashing input while its signature stays (-minimize_crash=1).</summary>
    Minimize = 2,
    /// <summary>Run each input -runs times, stop at the first finding (input files as arguments).</summary>
    Reproduce = 3,
    /// <summary>Replace bytes of one crashing input while its signature stays (-cleanse_crash=1).</summary>
    Cleanse = 4,
}
