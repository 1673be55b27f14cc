namespace Kcov.Samples.Targets;

/// <summary>
/// One bug, three ways in: a checker that throws on 'X', called from three places. The managed stack
/// differs by caller (and by what the JIT inlined); the throwing block is one.
/// </summary>
public static class ThreeCallersTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2)
            return;
        switch (data[0])
        {
            case (byte)'a': FromA(data[1..]); break;
            case (byte)'b': FromB(data[1..]); break;
            case (byte)'c': FromC(data[1..]); break;
        }
    }

    private static void FromA(ReadOnlySpan<byte> rest) => Check(rest, 1);

    private static void FromB(ReadOnlySpan<byte> rest)
    {
        if (rest.Length > 0)
            Check(rest, 2);
    }

    private static void FromC(ReadOnlySpan<byte> rest)
    {
        int weight = rest.Length * 3;
        Check(rest, weight);
    }

    private static void Check(ReadOnlySpan<byte> rest, int weight)
    {
        if (rest[0] == (byte)'X')
            throw new FormatException($"planted bug: 'X' is not allowed here (weight {weight})");
    }
}
