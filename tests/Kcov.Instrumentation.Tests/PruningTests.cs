using Kcov.Coverage;
using Kcov.Workloads;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// Pruning as SanitizerCoverage does it (on by default): which blocks keep their probe, that the PC
/// map still lists the pruned ones with the probed blocks that imply them, and that a pruned build's
/// block coverage (the probed blocks that ran and every block they imply) is exactly an unpruned
/// build's on the same inputs, on the samples and on Markdig.
/// </summary>
[Collection(RealLibraryCollection.Name)]
public sealed class PruningTests(RealLibraryFixture fixture) : IDisposable
{
    private readonly TempDirectory _dir = new();

    private (InstrumentationResult Result, InstrumentedLoadContext Context) Build(bool prune)
    {
        string input = Snippet.Compile(Samples.Source, _dir.Combine("in"), "Pruned");
        var result = AssemblyInstrumenter.Instrument(input, _dir.Combine(prune ? "pruned" : "all"),
            new InstrumentationOptions { Trace = TraceModes.Pc, Prune = prune });
        return (result, new InstrumentedLoadContext([result.AssemblyPath]));
    }

    private static object? Call(InstrumentedLoadContext context, string path, string method, params object?[] args)
    {
        var type = context.LoadFromAssemblyPath(path).GetType("Constructs")!;
        try
        {
            return type.GetMethod(method)!.Invoke(null, args);
        }
        catch (System.Reflection.TargetInvocationException)
        {
            return null;
        }
    }

    [Fact]
    public void TheLoopHeaderDominatesBodyAndExitSoOnlyTheyKeepProbes()
    {
        var (result, context) = Build(prune: true);
        var map = result.Map;
        // Loop: B0 (entry: sum = 0; i = 0; br B2), B1 (body), B2 (i < n ? B1 : B3), B3 (return).
        var loop = Enumerable.Range(0, map.SiteCount).Where(i => map.Methods[map.Sites[i].Method].Name == "Loop").ToArray();
        Assert.Equal([SiteKind.Block, SiteKind.Block, SiteKind.ImpliedBlock, SiteKind.Block], loop.Select(i => map.Sites[i].Kind));
        var (b0, b1, b2, b3) = (loop[0], loop[1], loop[2], loop[3]);
        // B2 dominates both its successors: it ran exactly when one of them ran.
        Assert.Equal([new PcMapImplication(b2, b1), new PcMapImplication(b2, b3)], map.Implications.Where(x => x.Implied == b2));

        var pcs = Recorder.Pcs(() => Assert.Equal(1, Call(context, result.AssemblyPath, "Loop", 2)));
        Assert.Equal([b0, b1, b1, b3], pcs.Select(SiteId.IndexOf));
        // The symbolizer still names every probed block exactly, and the implied block has its own line.
        var symbolizer = new Symbolizer([map]);
        Assert.All(pcs, pc => Assert.Equal("Constructs.Loop", symbolizer.Symbolize(pc).Function));
        Assert.True(map.Sites[b2].Line > map.Sites[b0].Line);
    }

    [Fact]
    public void EntryHandlerAndFilterStartsAlwaysKeepTheirProbes()
    {
        var (result, _) = Build(prune: true);
        var map = result.Map;
        foreach (string method in new[] { "TryCatchFinally", "Filter" })
        {
            var blocks = Enumerable.Range(0, map.SiteCount)
                .Where(i => map.Methods[map.Sites[i].Method].Name == method && map.Sites[i].Kind is SiteKind.Block or SiteKind.ImpliedBlock)
                .ToArray();
            Assert.Equal(SiteKind.Block, map.Sites[blocks[0]].Kind);
            Assert.Contains(blocks, i => map.Sites[i].Kind == SiteKind.Block && map.Sites[i].ILOffset > 0);
        }
    }

    [Fact]
    public void PrunedCoverageEqualsUnprunedCoverageOnTheSamples()
    {
        var pruned = Build(prune: true);
        var all = Build(prune: false);
        (string Method, object?[] Args)[] calls =
        [
            ("Branch", [11]), ("Branch", [1]), ("Truth", [true]), ("Truth", [false]), ("Loop", [0]), ("Loop", [3]),
            ("Switch", [0]), ("Switch", [3]), ("Switch", [9]), ("TryCatchFinally", ["5"]), ("TryCatchFinally", ["x"]),
            ("Filter", [0]), ("Filter", [1]),
        ];
        foreach (var (method, args) in calls)
        {
            var withPruning = Covered(pruned.Result.Map, Recorder.Pcs(() => Call(pruned.Context, pruned.Result.AssemblyPath, method, args)));
            var everyBlock = Covered(all.Result.Map, Recorder.Pcs(() => Call(all.Context, all.Result.AssemblyPath, method, args)));
            Assert.Equal(everyBlock.Order(), withPruning.Order());
        }
        Assert.True(pruned.Result.Statistics.BlockSites < all.Result.Statistics.BlockSites);
        Assert.Equal(all.Result.Statistics.BlockSites, pruned.Result.Statistics.BlockSites + pruned.Result.Statistics.ImpliedBlocks);
    }

    /// <summary>
    /// On real code, from one run: an unpruned build's trace says which blocks really ran; the probed
    /// blocks among them are what a pruned build records, and what they imply must give back exactly
    /// the blocks that ran (two runs would not do: Markdig's caches and pools change its paths).
    /// </summary>
    [Fact]
    public void ProbedBlocksAndWhatTheyImplyAreExactlyTheBlocksThatRanInMarkdig()
    {
        var workload = LibraryWorkload.All.Single(w => w.Name == "Markdig");
        var pruned = fixture.Get(workload, TraceModes.Pc).Result;
        var all = fixture.Get(workload, TraceModes.Pc, prune: false);
        Assert.InRange(pruned.Statistics.ImpliedBlocks, all.Result.Statistics.BlockSites / 5, all.Result.Statistics.BlockSites / 2);
        Assert.Equal(all.Result.Statistics.BlockSites, pruned.Statistics.BlockSites + pruned.Statistics.ImpliedBlocks);
        var sites = Enumerable.Range(0, pruned.Map.SiteCount).Where(i => pruned.Map.Sites[i].Kind is SiteKind.Block or SiteKind.ImpliedBlock)
            .ToDictionary(i => Block(pruned.Map, i));
        int blocksRan = 0;
        foreach (var input in workload.Seeds().SelectMany((seed, i) => Corpus.WithVariants(seed, i, flips: 2)))
        {
            var ran = Covered(all.Result.Map, Recorder.Pcs(() => Outcome.Of(all.Run, input), 1 << 22));
            var recorded = ran.Select(b => sites[b]).Where(i => pruned.Map.Sites[i].Kind == SiteKind.Block);
            var reconstructed = Covered(pruned.Map, recorded.Select(i => SiteId.Pc(pruned.Map.ModuleId, i)));
            Assert.Equal(ran.Order(), reconstructed.Order());
            blocksRan += ran.Count;
        }
        Assert.True(blocksRan > 10_000, $"only {blocksRan} blocks ran");
    }

    /// <summary>The blocks (method token, IL offset) that ran: probed blocks hit, and the pruned blocks they imply.</summary>
    private static HashSet<(int, int)> Covered(PcMap map, IEnumerable<ulong> pcs)
    {
        var hit = new HashSet<int>(pcs.Select(SiteId.IndexOf));
        var covered = new HashSet<(int, int)>();
        void Add(int site) => covered.Add(Block(map, site));
        foreach (int site in hit)
            Add(site);
        foreach (var (implied, by) in map.Implications)
            if (hit.Contains(by))
                Add(implied);
        return covered;
    }

    private static (int Token, int Offset) Block(PcMap map, int site) => (map.Methods[map.Sites[site].Method].Token, map.Sites[site].ILOffset);

    public void Dispose() => _dir.Dispose();
}
