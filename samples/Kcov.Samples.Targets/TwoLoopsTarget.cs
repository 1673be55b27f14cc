namespace Kcov.Samples.Targets;

/// <summary>Two different infinite loops: "%" then a digit spins in <see cref="Escape"/>, "&amp;" then a letter in <see cref="Entity"/>.</summary>
public static class TwoLoopsTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        for (int i = 0; i + 1 < data.Length; i++)
        {
            if (data[i] == (byte)'%')
                Escape(data, i + 1);
            else if (data[i] == (byte)'&')
                Entity(data, i + 1);
        }
    }

    private static void Escape(ReadOnlySpan<byte> data, int j)
    {
        while (j < data.Length && char.IsAsciiDigit((char)data[j]))
            _ = data[j];
    }

    private static void Entity(ReadOnlySpan<byte> data, int j)
    {
        int length = 0;
        while (j < data.Length && char.IsAsciiLetter((char)data[j]))
            length++;
        _ = length;
    }
}
