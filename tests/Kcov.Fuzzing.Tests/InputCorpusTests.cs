using Kcov.Fuzzing.Corpus;

namespace Kcov.Fuzzing.Tests;

public class InputCorpusTests
{
    [Fact]
    public void NewFeatureJoinsKnownFeaturesDoNot()
    {
        var corpus = new InputCorpus();
        Assert.NotNull(corpus.Offer([1, 2, 3], [10, 11], out var outcome));
        Assert.Equal(InputCorpus.Outcome.New, outcome);
        Assert.Null(corpus.Offer([4, 5, 6, 7], [10, 11], out outcome));
        Assert.Equal(InputCorpus.Outcome.None, outcome);
        Assert.Equal(1, corpus.Count);
        Assert.Equal(2, corpus.Seen.Count);
    }

    [Fact]
    public void KeepsTheSmallestInputPerFeature()
    {
        var corpus = new InputCorpus();
        var big = corpus.Offer([1, 1, 1, 1], [10, 11], out _)!;
        var small = corpus.Offer([2, 2], [10, 11], out var outcome);
        Assert.Equal(InputCorpus.Outcome.Reduce, outcome);
        Assert.NotNull(small);
        // The big input owns nothing any more: it left the corpus.
        Assert.Equal(-1, big.Index);
        Assert.Equal(1, corpus.Count);
        Assert.Equal(2, corpus.TotalBytes);
    }

    [Fact]
    public void AnInputStaysWhileItOwnsOneFeature()
    {
        var corpus = new InputCorpus();
        var big = corpus.Offer([1, 1, 1, 1], [10, 11], out _)!;
        corpus.Offer([2, 2], [10], out _);
        Assert.True(big.Index >= 0);
        Assert.Equal(1, big.OwnedFeatures);
        Assert.Equal(2, corpus.Count);
    }

    [Fact]
    public void PickReturnsOnlyCorpusInputs()
    {
        var corpus = new InputCorpus();
        for (byte i = 0; i < 20; i++)
            corpus.Offer([i], [(uint)i], out _);
        var random = new Random(1);
        for (int i = 0; i < 1000; i++)
            Assert.Contains(corpus.Pick(random), corpus.Inputs);
    }

    [Fact]
    public void OwnersHoldThroughTheTableGrowing()
    {
        // 100,000 features, each owned by one of 1,000 inputs of lengths 1..1000: the owners' table
        // grows many times; every feature keeps its owner and its owner's length.
        var owners = new FeatureOwners();
        var inputs = Enumerable.Range(1, 1000).Select(n => new InputInfo(new byte[n])).ToArray();
        for (uint f = 0; f < 100_000; f++)
            Assert.True(owners.Set(f * 167 + (f & 7), inputs[f % 1000]));
        Assert.Equal(100_000, owners.Count);
        for (uint f = 0; f < 100_000; f++)
        {
            Assert.Same(inputs[f % 1000], owners.Owner(f * 167 + (f & 7)));
            Assert.Equal((int)(f % 1000) + 1, owners.OwnerLength(f * 167 + (f & 7)));
        }
        Assert.Equal(-1, owners.OwnerLength(1));
        Assert.Null(owners.Owner(1));
        // A smaller owner replaces the old one: not a new feature.
        Assert.False(owners.Set(0, inputs[0]));
        Assert.Equal(1, owners.OwnerLength(0));
        Assert.Equal(100_000, owners.Count);
    }

    [Fact]
    public void AReduceNeedsAFeatureWhoseOwnerIsLargerAndANewFeatureWinsOverIt()
    {
        var corpus = new InputCorpus();
        corpus.Offer([1, 1, 1, 1], [10], out _);
        corpus.Offer([2, 2], [11], out _);
        // As small as the owner of 11, smaller than that of 10.
        Assert.NotNull(corpus.Offer([3, 3], [11, 10], out var outcome));
        Assert.Equal(InputCorpus.Outcome.Reduce, outcome);
        // Not smaller than any owner: nothing.
        Assert.Null(corpus.Offer([4, 4, 4], [10, 11], out outcome));
        Assert.Equal(InputCorpus.Outcome.None, outcome);
        // A reducing feature first, a new one after: NEW.
        corpus.Offer([5, 5, 5, 5, 5], [12], out _);
        Assert.NotNull(corpus.Offer([6], [12, 13], out outcome));
        Assert.Equal(InputCorpus.Outcome.New, outcome);
    }
}
