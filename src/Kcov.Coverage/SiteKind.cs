namespace Kcov.Coverage;

/// <summary>What the instrumenter put at a site. The values are stored in PC map files: never renumber.</summary>
public enum SiteKind : byte
{
    /// <summary>A basic block: <c>Trace.Pc(pc)</c> at its first instruction (trace-pc).</summary>
    Block = 0,

    /// <summary>An integer comparison or conditional branch: <c>Trace.Cmp*/ConstCmp*</c> before it (trace-cmp).</summary>
    Cmp = 1,

    /// <summary>A <c>switch</c> opcode: <c>Trace.Switch</c> before it (trace-cmp).</summary>
    Switch = 2,

    /// <summary>
    /// A basic block without a probe (pruned, as SanitizerCoverage prunes): it ran when one of the
    /// block sites that imply it ran (<see cref="PcMap.Implications"/>). Its PC never appears in a trace.
    /// </summary>
    ImpliedBlock = 3,
}
