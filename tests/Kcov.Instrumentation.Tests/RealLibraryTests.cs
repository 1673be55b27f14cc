using System.Reflection;
using System.Runtime.CompilerServices;
using Kcov.Workloads;
using Xunit.Abstractions;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// The instrumenter on the seven real NuGet libraries, in both trace modes: every method with a body
/// JITs, and a few hundred real and malformed inputs give the same results and exceptions as the
/// original while coverage is recorded and tells inputs apart.
/// </summary>
[Collection(RealLibraryCollection.Name)]
public sealed class RealLibraryTests(RealLibraryFixture fixture, ITestOutputHelper output)
{
    public static TheoryData<string, string> Libraries()
    {
        var data = new TheoryData<string, string>();
        foreach (var workload in LibraryWorkload.All)
        {
            data.Add(workload.Name, "pc");
            data.Add(workload.Name, "pc,cmp");
        }
        return data;
    }

    private InstrumentedLibrary Load(string name, string modes) =>
        fixture.Get(LibraryWorkload.All.Single(w => w.Name == name), InstrumentationOptions.ParseTraceModes(modes));

    [Theory]
    [MemberData(nameof(Libraries))]
    public void EveryMethodWithABodyJits(string name, string modes)
    {
        var library = Load(name, modes);
        var original = typeof(LibraryWorkload).Assembly.GetReferencedAssemblies()
            .Select(Assembly.Load).Single(a => a.GetName().Name == library.Workload.AssemblyName);
        var report = MethodPreparer.PrepareAll(library.Assembly, original);
        output.WriteLine($"{name} [{modes}]: {report.Prepared} methods JIT-compiled, {report.Uninstantiable} generic ones without an instantiation satisfying their constraints, {report.FailedLikeOriginal} failing the same way in the original; {library.Result.Statistics}");
        Assert.Empty(report.Failures);
        Assert.True(report.Prepared > 100, $"only {report.Prepared} methods prepared");
    }

    [Theory]
    [MemberData(nameof(Libraries))]
    public void CorpusGivesTheSameResultsWhileCoverageIsRecorded(string name, string modes)
    {
        var library = Load(name, modes);
        bool cmp = modes.Contains("cmp");
        var inputs = library.Workload.Seeds().SelectMany((seed, i) => Corpus.WithVariants(seed, i)).ToList();
        var coverage = new List<HashSet<ulong>>();
        int threw = 0;
        foreach (var input in inputs)
        {
            string expected = Outcome.Of(library.OriginalRun, input);
            string actual = "";
            HashSet<ulong> pcs;
            if (cmp)
                pcs = [.. Recorder.Cmps(() => actual = Outcome.Of(library.Run, input), 1 << 20).Select(r => r.Pc)];
            else
                pcs = [.. Recorder.Pcs(() => actual = Outcome.Of(library.Run, input), 1 << 20)];
            Assert.Equal(expected, actual);
            Assert.NotEmpty(pcs);
            Assert.All(pcs, pc => Assert.True(library.Result.Map.TryGetSite(pc, out _), $"PC 0x{pc:x} is not in the map"));
            coverage.Add(pcs);
            if (expected.StartsWith("threw", StringComparison.Ordinal))
                threw++;
        }
        int distinct = coverage.Select(c => string.Join(",", c.Order())).Distinct().Count();
        output.WriteLine($"{name} [{modes}]: {inputs.Count} inputs, {threw} threw, {distinct} distinct coverage sets");
        Assert.True(inputs.Count >= 40, $"only {inputs.Count} inputs");
        // Different documents take different paths: the first two seeds must not cover the same sites.
        Assert.NotEqual(coverage[0], coverage[inputs.Count / 2]);
        Assert.True(distinct > inputs.Count / 4, $"only {distinct} distinct coverage sets for {inputs.Count} inputs");
    }
}
