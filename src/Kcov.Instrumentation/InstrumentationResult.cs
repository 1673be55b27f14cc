using Kcov.Coverage;

namespace Kcov.Instrumentation;

/// <summary>What <see cref="AssemblyInstrumenter.Instrument(string, string, InstrumentationOptions)"/> wrote.</summary>
/// <param name="InputPath">The assembly that was read.</param>
/// <param name="AssemblyPath">The instrumented assembly.</param>
/// <param name="PdbPath">Its portable PDB beside it (from the input's PDB beside it or in its NuGet package), or null (no symbols, or embedded in the assembly).</param>
/// <param name="MapPath">Its PC map.</param>
/// <param name="RuntimePath">The Kcov.Runtime.dll placed beside it so that it runs.</param>
/// <param name="Map">The PC map.</param>
/// <param name="Statistics">Counts.</param>
/// <param name="Warnings">Notes for the user, one line each.</param>
public sealed record InstrumentationResult(string InputPath, string AssemblyPath, string? PdbPath, string MapPath,
    string RuntimePath, PcMap Map, InstrumentationStatistics Statistics, IReadOnlyList<string> Warnings)
{
    public uint ModuleId => Map.ModuleId;

    /// <summary>As <see cref="InstrumentedAssembly.MissingSymbols"/>: the one-line warning when the input had no PDB to be found, else null.</summary>
    public string? MissingSymbols { get; init; }
}
