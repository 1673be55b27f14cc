using System.Reflection;
using Kcov.Coverage;

namespace Kcov.Instrumentation.Tests;

/// <summary><see cref="Samples.Source"/> compiled once, instrumented with pc and cmp, and loaded.</summary>
public sealed class SamplesFixture : IDisposable
{
    private readonly TempDirectory _dir = new();

    public SamplesFixture()
    {
        OriginalPath = Snippet.Compile(Samples.Source, _dir.Combine("in"), "Constructs");
        Result = AssemblyInstrumenter.Instrument(OriginalPath, _dir.Combine("out"), 
            // These samples pin the probes of blocks and integer comparisons site by site; the call-site
            // hooks (which add comparison sites at calls such as int.Parse) are tested by CallSiteHookTests.
            new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp, CallSiteHooks = false });
        Context = new InstrumentedLoadContext([Result.AssemblyPath]);
        Assembly = Context.LoadFromAssemblyPath(Result.AssemblyPath);
    }

    public string OriginalPath { get; }
    internal InstrumentationResult Result { get; }
    internal InstrumentedLoadContext Context { get; }
    public Assembly Assembly { get; }
    public PcMap Map => Result.Map;

    /// <summary>Calls Constructs.<paramref name="method"/> of the instrumented copy.</summary>
    public object? Call(string method, params object?[] args) =>
        Call(method, null, args);

    public object? Call(string method, Type[]? typeArguments, params object?[] args)
    {
        var info = Assembly.GetType("Constructs")!.GetMethod(method)!;
        if (typeArguments is not null)
            info = info.MakeGenericMethod(typeArguments);
        try
        {
            return info.Invoke(null, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    /// <summary>The site indices of <paramref name="pcs"/>, checking each belongs to this module.</summary>
    public int[] Sites(IEnumerable<ulong> pcs) =>
        [.. pcs.Select(pc => { Assert.Equal(Map.ModuleId, SiteId.ModuleOf(pc)); return SiteId.IndexOf(pc); })];

    public string Listing(string method) => IlListing.Of(Result.AssemblyPath, "Constructs", method, Map.ModuleId);

    public void Dispose() => _dir.Dispose();
}
