using System.Runtime.CompilerServices;
using Kcov.Fuzzing.Feedback;

namespace Kcov.Fuzzing.Corpus;

/// <summary>
/// The in-memory corpus: per feature, the smallest input that has it. An input joins when it
/// has a feature never seen (NEW) or is smaller than the current owner of one of its features
/// (REDUCE); an input that no longer owns any feature leaves (<see cref="Dropped"/>: the supervisor
/// removes its file if this campaign wrote it, libFuzzer's -reduce_inputs=1).
/// </summary>
internal sealed class InputCorpus
{
    private readonly List<InputInfo> _inputs = [];
    private readonly FeatureOwners _owners = new();
    private int _largest;

    /// <summary>The status lines' counts (ft, cov, edges); whether a feature was seen is the owners' table's to say.</summary>
    public FeatureSet Seen { get; } = new();

    public int Count => _inputs.Count;

    public long TotalBytes { get; private set; }

    public IReadOnlyList<InputInfo> Inputs => _inputs;

    /// <summary>The inputs the last <see cref="Offer"/> pushed out: every feature they owned has a smaller owner now.</summary>
    public List<byte[]> Dropped { get; } = [];
    /// <summary>The entropic power schedule (-entropic=1), or null for the plain pick.</summary>
    public EntropicSchedule? Entropic { get; init; }

    private bool _changed;

    /// <summary>What an offered input did to the corpus.</summary>
    public enum Outcome { None, New, Reduce }

    /// <summary>Offers an executed input with its features; returns the corpus entry if it joined.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public InputInfo? Offer(ReadOnlySpan<byte> input, ReadOnlySpan<uint> features, out Outcome outcome)
    {
        outcome = Outcome.None;
        Dropped.Clear();
        // One lookup per feature: a feature never seen makes the input NEW; else it is a REDUCE if it
        // is smaller than the owner of one of its features (only possible below the largest input).
        bool canReduce = input.Length < _largest;
        foreach (uint f in features)
        {
            int ownerLength = _owners.OwnerLength(f);
            if (ownerLength < 0)
            {
                outcome = Outcome.New;
                break;
            }
            if (canReduce && ownerLength > input.Length)
                outcome = Outcome.Reduce;
        }
        if (outcome == Outcome.None)
            return null;

        var info = new InputInfo(input.ToArray());
        foreach (uint f in features)
        {
            var owner = _owners.Owner(f);
            if (owner is null)
            {
                _owners.Set(f, info);
                Seen.Add(f);
                Entropic?.AddRare(f, _inputs);
                info.OwnedFeatures++;
            }
            else if (owner.Data.Length > input.Length)
            {
                _owners.Set(f, info);
                info.OwnedFeatures++;
                if (--owner.OwnedFeatures == 0)
                    Remove(owner);
            }
        }
        info.Index = _inputs.Count;
        _inputs.Add(info);
        TotalBytes += info.Data.Length;
        _largest = Math.Max(_largest, info.Data.Length);
        _changed = true;
        return info;
    }

    /// <summary>
    /// Picks an input to mutate: by the entropic schedule if on, else the better of two at random
    /// (more owned features, then smaller).
    /// </summary>
    public InputInfo Pick(Random random)
    {
        if (Entropic is not null)
        {
            var picked = Entropic.Pick(_inputs, random, _changed);
            _changed = false;
            return picked;
        }
        var a = _inputs[random.Next(_inputs.Count)];
        var b = _inputs[random.Next(_inputs.Count)];
        if (a.OwnedFeatures != b.OwnedFeatures)
            return a.OwnedFeatures > b.OwnedFeatures ? a : b;
        return a.Data.Length <= b.Data.Length ? a : b;
    }

    private void Remove(InputInfo info)
    {
        int i = info.Index;
        var last = _inputs[^1];
        _inputs[i] = last;
        last.Index = i;
        _inputs.RemoveAt(_inputs.Count - 1);
        info.Index = -1;
        TotalBytes -= info.Data.Length;
        Dropped.Add(info.Data);
        _changed = true;
    }
}
