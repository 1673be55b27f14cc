namespace Kcov.Fuzzing.Executor;

/// <summary>Where an executed input came from; decides whether and how a new corpus input is reported.</summary>
internal enum InputOrigin
{
    /// <summary>Already on disk (the initial corpus, or another executor's find): not reported again.</summary>
    Seed,
    /// <summary>Made by the mutation dispatcher: reported with its chain of mutators.</summary>
    Mutation,
    /// <summary>A comparison-hints substitution: reported as "CmpHints-".</summary>
    CmpHint,
}
