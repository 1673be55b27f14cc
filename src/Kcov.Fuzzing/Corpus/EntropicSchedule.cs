namespace Kcov.Fuzzing.Corpus;

/// <summary>
/// libFuzzer's entropic power schedule (Böhme, Manès, Cha: "Boosting fuzzer efficiency: an information
/// theoretic perspective", FSE 2020), written from its description: a corpus input is worth mutating
/// as much as its mutants still tell us something new. Each execution counts, for the rarest features
/// of the campaign (at most <see cref="MaxRare"/>, each seen fewer than <see cref="RareThreshold"/>
/// times), how often mutants of its parent hit them; an input's energy is the entropy of that local
/// distribution (add-one smoothed, with the parent's other executions as one abundant feature), so an
/// input whose mutants keep hitting rare features keeps a high energy, and one whose mutants only
/// repeat what is known fades. Inputs are picked with probability proportional to their energy.
/// </summary>
internal sealed class EntropicSchedule(int featureBits)
{
    public const int MaxRare = 100;
    public const int RareThreshold = 0xFF;

    /// <summary>How often each feature was hit by any execution, saturating (libFuzzer's global frequencies).</summary>
    private readonly ushort[] _frequency = new ushort[1 << featureBits];
    private readonly List<uint> _rare = [];
    private readonly HashSet<uint> _isRare = [];
    private double[] _cumulative = [];
    private int _picksSinceUpdate = int.MaxValue;

    /// <summary>A feature new to the campaign joins the rare ones; past <see cref="MaxRare"/>, the most frequent leaves.</summary>
    public void AddRare(uint feature, IReadOnlyList<InputInfo> inputs)
    {
        if (!_isRare.Add(feature))
            return;
        _rare.Add(feature);
        while (_rare.Count > MaxRare)
        {
            int worst = 0;
            for (int i = 1; i < _rare.Count; i++)
                if (_frequency[_rare[i]] > _frequency[_rare[worst]])
                    worst = i;
            uint evicted = _rare[worst];
            _rare.RemoveAt(worst);
            _isRare.Remove(evicted);
            foreach (var input in inputs)
                if (input.RareHits?.Remove(evicted) == true)
                    input.EnergyStale = true;
        }
    }

    /// <summary>One execution, a mutant of <paramref name="parent"/> (or none), hit these features.</summary>
    public void Observe(ReadOnlySpan<uint> features, InputInfo? parent)
    {
        if (parent is not null)
        {
            parent.ExecutedMutants++;
            parent.EnergyStale = true;
        }
        foreach (uint f in features)
        {
            ref ushort n = ref _frequency[f];
            if (n < ushort.MaxValue)
                n++;
            if (parent is null || !_isRare.Contains(f))
                continue;
            if (n >= RareThreshold)
            {
                // Not rare any more: it no longer counts for anyone's energy.
                _isRare.Remove(f);
                _rare.Remove(f);
                continue;
            }
            parent.RareHits ??= [];
            parent.RareHits[f] = (ushort)(parent.RareHits.GetValueOrDefault(f) + 1);
        }
    }

    /// <summary>Picks an input with probability proportional to its energy (weights recomputed every 64 picks or after a corpus change).</summary>
    public InputInfo Pick(IReadOnlyList<InputInfo> inputs, Random random, bool corpusChanged)
    {
        if (corpusChanged || _cumulative.Length != inputs.Count || ++_picksSinceUpdate >= 64)
            Update(inputs);
        double total = _cumulative[^1];
        if (total <= 0)
            return inputs[random.Next(inputs.Count)];
        int at = Array.BinarySearch(_cumulative, random.NextDouble() * total);
        return inputs[Math.Min(at < 0 ? ~at : at, inputs.Count - 1)];
    }

    private void Update(IReadOnlyList<InputInfo> inputs)
    {
        _picksSinceUpdate = 0;
        if (_cumulative.Length != inputs.Count)
            _cumulative = new double[inputs.Count];
        double sum = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            if (input.EnergyStale || input.Energy < 0)
                input.Energy = Energy(input);
            // A parent whose children hang costs an executor per hang: a sixteenth of its energy.
            sum += input.HangParent ? input.Energy / 16 : input.Energy;
            _cumulative[i] = sum;
        }
    }

    /// <summary>The entropy estimate of the input's local rare-feature distribution, add-one smoothed.</summary>
    private double Energy(InputInfo input)
    {
        input.EnergyStale = false;
        double energy = 0, incidence = 0;
        int local = 0;
        if (input.RareHits is not null)
            foreach (var (feature, hits) in input.RareHits)
            {
                if (!_isRare.Contains(feature))
                    continue;
                double n = hits + 1;
                energy -= n * Math.Log(n);
                incidence += n;
                local++;
            }
        // Rare features its mutants never hit count once each (log 1 = 0 adds nothing to the energy).
        incidence += Math.Max(0, _rare.Count - local);
        // Everything else its mutants did, as one abundant feature.
        double abundant = input.ExecutedMutants + 1;
        energy -= abundant * Math.Log(abundant);
        incidence += abundant;
        return incidence > 0 ? Math.Max(0, energy / incidence + Math.Log(incidence)) : 0;
    }
}
