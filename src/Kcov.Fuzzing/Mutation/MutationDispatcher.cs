using System.Text;

namespace Kcov.Fuzzing.Mutation;

/// <summary>
/// Applies a chain of 1..-mutate_depth mutators picked at random, and remembers their names
/// for the "MS:" part of a status line (libFuzzer's MutationDispatcher).
/// </summary>
internal sealed class MutationDispatcher
{
    private readonly (string Name, Mutator Mutate)[] _mutators;
    private readonly MutationContext _context;
    private readonly int _depth;
    private readonly List<int> _sequence = [];

    public MutationDispatcher(MutationContext context, int depth, bool crossOver)
    {
        _context = context;
        _depth = depth;
        var all = new List<(string, Mutator)>
        {
            (nameof(Mutators.EraseBytes), Mutators.EraseBytes),
            (nameof(Mutators.InsertByte), Mutators.InsertByte),
            (nameof(Mutators.InsertRepeatedBytes), Mutators.InsertRepeatedBytes),
            (nameof(Mutators.ChangeBit), Mutators.ChangeBit),
            (nameof(Mutators.ChangeByte), Mutators.ChangeByte),
            (nameof(Mutators.ShuffleBytes), Mutators.ShuffleBytes),
            (nameof(Mutators.CopyPart), Mutators.CopyPart),
            (nameof(Mutators.ChangeASCIIInteger), Mutators.ChangeASCIIInteger),
            (nameof(Mutators.ChangeBinaryInteger), Mutators.ChangeBinaryInteger),
            (nameof(Mutators.InsertDictToken), Mutators.InsertDictToken),
            (nameof(Mutators.OverwriteDictToken), Mutators.OverwriteDictToken),
            (nameof(Mutators.InsertCmpToken), Mutators.InsertCmpToken),
            (nameof(Mutators.OverwriteCmpToken), Mutators.OverwriteCmpToken),
        };
        if (crossOver)
            all.Add((nameof(Mutators.CrossOver), Mutators.CrossOver));
        _mutators = [.. all];
    }

    public IEnumerable<string> Names => _mutators.Select(m => m.Name);

    /// <summary>Mutates data[0..size) in place; returns the new size (at least 1 byte when maxSize allows).</summary>
    public int Mutate(byte[] data, int size, int maxSize)
    {
        _sequence.Clear();
        int steps = 1 + _context.Random.Next(_depth);
        for (int step = 0; step < steps; step++)
        {
            // A mutator may decline (returns 0); try others, as libFuzzer does.
            for (int attempt = 0; attempt < 2 * _mutators.Length; attempt++)
            {
                int m = _context.Random.Next(_mutators.Length);
                int newSize = _mutators[m].Mutate(_context, data, size, maxSize);
                if (newSize > 0)
                {
                    size = newSize;
                    _sequence.Add(m);
                    break;
                }
            }
        }
        if (size == 0 && maxSize > 0)
        {
            data[0] = (byte)_context.Random.Next(256);
            size = 1;
        }
        return size;
    }

    /// <summary>The last chain, as "ChangeByte-InsertByte-".</summary>
    public string LastSequence()
    {
        var text = new StringBuilder();
        foreach (int m in _sequence)
            text.Append(_mutators[m].Name).Append('-');
        return text.ToString();
    }
}
