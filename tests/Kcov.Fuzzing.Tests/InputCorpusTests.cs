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
}
