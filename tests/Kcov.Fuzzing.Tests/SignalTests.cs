using Kcov.Fuzzing.Feedback;

namespace Kcov.Fuzzing.Tests;

public class SignalTests
{
    private static uint[] Features(params ulong[] pcs)
    {
        var area = new ulong[pcs.Length + 16];
        area[0] = (ulong)pcs.Length;
        pcs.CopyTo(area, 1);
        return new Signal().Collect(area).ToArray().Order().ToArray();
    }

    [Fact]
    public void EachDistinctPcAndEdgeIsAFeature()
    {
        var f = Features(1, 2, 3);
        Assert.Equal(3, f.Count(Signal.IsPcFeature));
        Assert.Equal(3, f.Count(x => !Signal.IsPcFeature(x))); // 0->1, 1->2, 2->3
    }

    [Fact]
    public void EdgesDependOnOrderEvenWithTheSamePcs()
    {
        var ab = Features(1, 2);
        var ba = Features(2, 1);
        Assert.Equal(ab.Where(Signal.IsPcFeature), ba.Where(Signal.IsPcFeature));
        Assert.NotEqual(ab.Where(x => !Signal.IsPcFeature(x)), ba.Where(x => !Signal.IsPcFeature(x)));
    }

    [Fact]
    public void OneMoreLoopIterationIsANewFeatureAcrossABucket()
    {
        // A loop body 5->5 taken 2 times vs 3 times: same PCs and edges, another hit-count bucket.
        var twice = Features(4, 5, 5, 5, 6);
        var thrice = Features(4, 5, 5, 5, 5, 6);
        Assert.Equal(twice.Length, thrice.Length);
        Assert.NotEqual(twice, thrice);
        // Within one bucket (4..7 hits) no new feature.
        Assert.Equal(Features(4, 5, 5, 5, 5, 5, 6), Features(4, 5, 5, 5, 5, 5, 5, 6));
    }

    [Fact]
    public void AFullAreaIsCountedAsAnOverflow()
    {
        var signal = new Signal();
        var area = new ulong[5];
        area[0] = 3;
        signal.Collect(area);
        Assert.Equal(0, signal.Overflows);
        area[0] = 4; // size - 1: Trace.Pc dropped entries after this
        signal.Collect(area);
        Assert.Equal(1, signal.Overflows);
    }

    [Fact]
    public void CostFollowsTheTraceNotTheAreaSize()
    {
        // The same 3-PC trace in a 16-word and a 1M-word area: identical features. (The scratch
        // table is cleared through its touched list; bench/ measures the time.)
        var small = new ulong[16];
        var large = new ulong[1 << 20];
        foreach (var a in new[] { small, large })
        {
            a[0] = 3; a[1] = 10; a[2] = 11; a[3] = 12;
        }
        var signal = new Signal();
        var s = signal.Collect(small).ToArray();
        var l = signal.Collect(large).ToArray();
        Assert.Equal(s.Order(), l.Order());
    }

    [Theory]
    [InlineData(1, 0u)]
    [InlineData(2, 1u)]
    [InlineData(3, 2u)]
    [InlineData(7, 3u)]
    [InlineData(8, 4u)]
    [InlineData(31, 5u)]
    [InlineData(127, 6u)]
    [InlineData(128, 7u)]
    public void BucketsAreAfls(int hits, uint bucket) => Assert.Equal(bucket, Signal.Bucket(hits));

    [Fact]
    public void FeaturesAreTheDefinitionsInFirstHitOrderWhateverTheTraceLength()
    {
        // Traces from 0 to 60,000 PCs, some with many repeats, through one Signal: its scratch table
        // grows past its first size, also in the middle of a trace, and is reused after, and must give
        // exactly what the definition gives. PCs of three modules, and a few whose site index is past
        // what Signal caches per module (those of module 0 are not an instrumenter's at all).
        var signal = new Signal();
        var random = new Random(7);
        foreach (int length in new[] { 0, 1, 5, 300, 3_000, 60_000, 20, 9_000, 2 })
        {
            ulong distinct = (ulong)Math.Max(2, length / 3);
            ulong Pc() => (ulong)random.Next(3) << 32 | (random.Next(20) == 0 ? 1UL << 30 : 0) | (ulong)random.NextInt64(1, (long)distinct + 1);
            // Loops: a body of 1 to 6 blocks run 1 to 40 times, so edges repeat as they do in real traces.
            var trace = new List<ulong>();
            while (trace.Count < length)
            {
                var body = Enumerable.Range(0, random.Next(1, 7)).Select(_ => Pc()).ToArray();
                for (int turns = random.Next(1, 41); turns > 0; turns--)
                    trace.AddRange(body);
            }
            var pcs = trace.Take(length).ToArray();
            var area = new ulong[length + 1];
            area[0] = (ulong)length;
            pcs.CopyTo(area, 1);
            Assert.Equal(Definition(pcs, edges: true), signal.Collect(area).ToArray());
            Assert.Equal(Definition(pcs, edges: false), signal.Collect(area, edges: false).ToArray());
        }
    }

    /// <summary>
    /// The features of a trace as the class comment defines them, written plainly: per distinct PC the
    /// top bits of its hash; per distinct edge (consecutive PCs, the first after PC 0) the top bits of
    /// the pair's hash with the bucket of its hits; each where it was first hit.
    /// </summary>
    private static uint[] Definition(ulong[] pcs, bool edges)
    {
        var order = new List<(bool Edge, ulong Key)>();
        var hits = new Dictionary<(bool Edge, ulong Key), int>();
        ulong prev = 0;
        foreach (ulong pc in pcs)
        {
            Hit((false, pc));
            if (!edges)
                continue;
            Hit((true, prev * 0x9E3779B97F4A7C15UL + pc));
            prev = pc;
        }
        return order.Select(k =>
        {
            uint hash = (uint)(Signal.Mix(k.Key) >> 40);
            return k.Edge ? 1u << 23 | (hash & 0xFFFFF) << 3 | Signal.Bucket(hits[k]) : hash & ((1u << 22) - 1);
        }).ToArray();

        void Hit((bool, ulong) key)
        {
            if (hits.TryAdd(key, 1))
                order.Add(key);
            else
                hits[key]++;
        }
    }
}
