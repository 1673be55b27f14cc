namespace Kcov;

/// <summary>What an enabled device collects; the values are kcov's trace-mode arguments.</summary>
public enum KcovMode : uint
{
    /// <summary>KCOV_TRACE_PC: the PC of every basic block that runs.</summary>
    TracePc = (uint)KcovAbi.TracePc,

    /// <summary>KCOV_TRACE_CMP: the operands of every comparison that runs, as 4-word records.</summary>
    TraceCmp = (uint)KcovAbi.TraceCmp,
}
