namespace Kcov.Instrumentation;

/// <summary>What one instrumentation did.</summary>
/// <param name="Methods">Methods that got at least one site.</param>
/// <param name="ExcludedMethods">Methods with a body left alone by an attribute, pattern or source filter.</param>
/// <param name="BlockSites">Blocks that got a probe (a Trace.Pc call).</param>
/// <param name="CmpSites">Trace.Cmp*/ConstCmp* calls inserted.</param>
/// <param name="SwitchSites">Trace.Switch calls inserted.</param>
/// <param name="UntypedMethods">Methods whose comparisons were not traced because their evaluation stack could not be typed.</param>
/// <param name="InputBytes">Size of the input assembly.</param>
/// <param name="ImpliedBlocks">Blocks left without a probe because probed blocks imply them (pruning).</param>
/// <param name="Cmp1Sites">Of <paramref name="CmpSites"/>, the comparisons of operands known to be 1 byte wide (Cmp1/ConstCmp1).</param>
/// <param name="Cmp2Sites">Of <paramref name="CmpSites"/>, those of 2 bytes (Cmp2/ConstCmp2).</param>
public sealed record InstrumentationStatistics(int Methods, int ExcludedMethods, int BlockSites, int CmpSites, int SwitchSites,
    int UntypedMethods, long InputBytes, int ImpliedBlocks = 0, int Cmp1Sites = 0, int Cmp2Sites = 0)
{
    public int Sites => BlockSites + CmpSites + SwitchSites;
}
