namespace Kcov.Instrumentation;

/// <summary>What one instrumentation did.</summary>
/// <param name="Methods">Methods that got at least one site.</param>
/// <param name="ExcludedMethods">Methods with a body left alone by an attribute, pattern or source filter.</param>
/// <param name="BlockSites">Trace.Pc calls inserted.</param>
/// <param name="CmpSites">Trace.Cmp*/ConstCmp* calls inserted.</param>
/// <param name="SwitchSites">Trace.Switch calls inserted.</param>
/// <param name="UntypedMethods">Methods whose comparisons were not traced because their evaluation stack could not be typed.</param>
/// <param name="InputBytes">Size of the input assembly.</param>
public sealed record InstrumentationStatistics(int Methods, int ExcludedMethods, int BlockSites, int CmpSites, int SwitchSites,
    int UntypedMethods, long InputBytes)
{
    public int Sites => BlockSites + CmpSites + SwitchSites;
}
