using Kcov.Coverage;

namespace Kcov.Instrumentation;

/// <summary>An instrumented assembly in memory, for hosts that load it themselves (load-time instrumentation).</summary>
/// <param name="Assembly">The instrumented module's bytes (with its PDB embedded if the input had it embedded).</param>
/// <param name="Pdb">The portable PDB to keep beside it, or null (no symbols, or embedded).</param>
/// <param name="Map">The PC map of its sites.</param>
/// <param name="Statistics">Counts.</param>
/// <param name="Warnings">Notes for the user, one line each (e.g. a dropped strong-name signature).</param>
public sealed record InstrumentedAssembly(byte[] Assembly, byte[]? Pdb, PcMap Map, InstrumentationStatistics Statistics,
    IReadOnlyList<string> Warnings)
{
    /// <summary>
    /// When no PDB was found (not beside the input, not embedded, not in its NuGet package): one line
    /// saying what is missing and how to fix it; its sites have no source lines. Else null.
    /// </summary>
    public string? MissingSymbols { get; init; }
}
