using System.Buffers.Binary;

namespace Kcov.Samples.Targets;

/// <summary>
/// Fast to run, long to search for hints: every input makes 40,000 comparisons of its first word with
/// 40,000 different values (a hash table probe, say), so its trace-cmp run has about 120,000 records.
/// </summary>
public static class ManyComparisonsTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
            return;
        uint word = BinaryPrimitives.ReadUInt32LittleEndian(data);
        uint h = 2166136261;
        int hits = 0;
        for (int k = 0; k < 40_000; k++)
        {
            h = (h ^ (uint)k) * 16777619;
            if (word == h)
                hits++;
        }
        _ = hits;
    }
}
