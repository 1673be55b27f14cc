using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Feedback;

namespace Kcov.Fuzzing.Tests;

/// <summary>The entropic schedule's energies, and value-profile features: deterministic, in process.</summary>
public class EntropicScheduleTests
{
    [Fact]
    public void AnInputWhoseMutantsHitRareFeaturesIsPickedMoreThanOneWhoseMutantsRepeatTheKnown()
    {
        var schedule = new EntropicSchedule(Signal.FeatureBits);
        var corpus = new InputCorpus { Entropic = schedule };
        var fertile = corpus.Offer([1], [1, 2], out _)!;
        var barren = corpus.Offer([2], [3, 4], out _)!;
        for (uint i = 0; i < 200; i++)
        {
            // fertile's mutants keep hitting features the campaign has rarely seen; barren's only the known one.
            schedule.AddRare(100 + i, corpus.Inputs);
            schedule.Observe([100 + i], fertile);
            schedule.Observe([3], barren);
        }
        var random = new Random(1);
        int fertilePicks = 0, barrenPicks = 0;
        for (int i = 0; i < 2000; i++)
        {
            var picked = corpus.Pick(random);
            if (picked == fertile) fertilePicks++;
            if (picked == barren) barrenPicks++;
        }
        // Energies about 3.0 and 2.2 (entropy of their mutants' rare hits): picks in that ratio.
        Assert.True(fertilePicks * 5 > barrenPicks * 6, $"fertile {fertilePicks}, barren {barrenPicks}");
        Assert.True(fertile.Energy > barren.Energy);
    }

    [Fact]
    public void ANewInputStartsWithTheHighestEnergy()
    {
        var schedule = new EntropicSchedule(Signal.FeatureBits);
        var corpus = new InputCorpus { Entropic = schedule };
        var old = corpus.Offer([1], [1], out _)!;
        for (int i = 0; i < 100; i++)
            schedule.Observe([1], old);
        var fresh = corpus.Offer([2], [2], out _)!;
        corpus.Pick(new Random(1));
        Assert.True(fresh.Energy > old.Energy, $"fresh {fresh.Energy}, old {old.Energy}");
    }

    [Fact]
    public void ValueProfileFeaturesGrowAsOperandsGetCloserAndAreNotBlocks()
    {
        var signal = new Signal();
        static ulong[] Area(ulong a, ulong b) => [1, KcovAbi.CmpSize(2) | KcovAbi.CmpConst, a, b, 0x42];
        var far = signal.CollectValues(Area(0xDEADBEEF, 0)).Single();
        var near = signal.CollectValues(Area(0xDEADBEEF, 0xDEADBEEE)).Single();
        var again = signal.CollectValues(Area(0xDEADBEEF, 0xDEADBEEE)).Single();
        Assert.NotEqual(far, near);
        Assert.Equal(near, again);
        Assert.False(Signal.IsPcFeature(near));
        Assert.False(Signal.IsEdgeFeature(near));
        var set = new FeatureSet();
        set.Add(near);
        Assert.Equal(0, set.PcCount);
        Assert.Equal(0, set.EdgeCount);
    }
}
