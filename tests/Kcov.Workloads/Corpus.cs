using System.Reflection;

namespace Kcov.Workloads;

/// <summary>The documents under Corpus/ (embedded), and deterministic malformed variants of any input.</summary>
public static class Corpus
{
    /// <summary>Every embedded document under Corpus/<paramref name="kind"/>/, in name order.</summary>
    public static IReadOnlyList<byte[]> Documents(string kind)
    {
        var assembly = typeof(Corpus).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith($"Corpus/{kind}/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => Read(assembly, n))];
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>
    /// The seed itself, then malformed variants: four truncations and <paramref name="flips"/> single-byte
    /// changes at positions drawn from a Random seeded with <paramref name="seed"/> (same variants every run).
    /// </summary>
    public static IEnumerable<byte[]> WithVariants(byte[] input, int seed, int flips = 6)
    {
        yield return input;
        if (input.Length < 2)
            yield break;
        foreach (int fraction in new[] { 1, 2, 3 })
            yield return input[..(input.Length * fraction / 4)];
        yield return input[..^1];
        var random = new Random(seed);
        for (int i = 0; i < flips; i++)
        {
            var flipped = (byte[])input.Clone();
            int at = random.Next(flipped.Length);
            flipped[at] ^= (byte)random.Next(1, 256);
            yield return flipped;
        }
    }
}
