namespace Kcov.Instrumentation;

/// <summary>What to instrument, and how.</summary>
public sealed class InstrumentationOptions
{
    /// <summary>trace-pc, trace-cmp or both. Default: trace-pc.</summary>
    public TraceModes Trace { get; init; } = TraceModes.Pc;

    /// <summary>
    /// Leave out the probes of blocks whose execution other probed blocks imply, as LLVM's
    /// SanitizerCoverage does (see BlockPruning); the PC map still lists them, as implied blocks.
    /// Default: on. Off is SanitizerCoverage's <c>no-prune</c>.
    /// </summary>
    public bool Prune { get; init; } = true;

    /// <summary>
    /// For the overhead bench only: instead of kcov's probes, SharpFuzz's scheme at every block (a
    /// process-wide 64 KiB AFL edge map, <c>map[cur ^ prev]++; prev = cur &gt;&gt; 1</c>, no thread
    /// check), as the in-run reference for what that technique costs.
    /// </summary>
    internal bool SharpFuzzEdgeMap { get; init; }

    /// <summary>
    /// With trace-cmp: also hook calls to the string, span, string-keyed collection, enum and number
    /// comparisons that run in CoreLib (<see cref="Kcov.TraceCalls"/>). Default: true.
    /// </summary>
    public bool CallSiteHooks { get; init; } = true;

    /// <summary>
    /// Name patterns (<c>*</c> any text, <c>?</c> one character, <c>[abc]</c> a class), matched against
    /// <c>Namespace.Type</c> and <c>Namespace.Type.Method</c> (nested types joined with <c>+</c>). When any is
    /// given, only matching methods are instrumented. Compiler-generated code is matched by the user method it belongs to.
    /// </summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>Name patterns (as <see cref="Include"/>) of methods and types not to instrument.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>
    /// Source path patterns (<c>**</c> any directories, <c>*</c> and <c>?</c> within one path segment): methods whose
    /// source file matches are not instrumented. A pattern without <c>/</c> matches the file name alone.
    /// </summary>
    public IReadOnlyList<string> ExcludeSource { get; init; } = [];

    /// <summary>
    /// NuGet's global packages folder, where the PDB of a package assembly without one beside it is looked for
    /// (through the *.deps.json beside the assembly). Default (null): NUGET_PACKAGES, else ~/.nuget/packages.
    /// </summary>
    public string? PackagesFolder { get; init; }

    /// <summary>Parses <c>pc</c>, <c>cmp</c> or <c>pc,cmp</c> (any order, any case).</summary>
    /// <exception cref="InstrumentationException">Anything else.</exception>
    public static TraceModes ParseTraceModes(string text)
    {
        var modes = TraceModes.None;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            modes |= part.ToLowerInvariant() switch
            {
                "pc" or "trace-pc" => TraceModes.Pc,
                "cmp" or "trace-cmp" => TraceModes.Cmp,
                _ => throw new InstrumentationException($"Unknown trace mode '{part}' in '{text}': use pc, cmp or pc,cmp."),
            };
        }
        return modes;
    }
}
