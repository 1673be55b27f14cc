using System.Buffers.Binary;

namespace Kcov.Samples.Targets;

/// <summary>
/// A record reader with a planted bug that can be switched off, for the dotnet test face: a length
/// field is trusted (an IndexOutOfRangeException past the end) until <see cref="Fixed"/> is set,
/// which checks it as the fixed code would.
/// </summary>
public static class SwitchableBugTarget
{
    /// <summary>Whether the bug is fixed (the length checked). Off by default: the bug is there.</summary>
    public static bool Fixed { get; set; }

    /// <summary>"REC" then a 2-byte little-endian length, then that many bytes: returns their sum.</summary>
    public static int Run(ReadOnlySpan<byte> data)
    {
        if (data.Length < 5 || data[0] != 'R' || data[1] != 'E' || data[2] != 'C')
            return 0;
        int length = BinaryPrimitives.ReadUInt16LittleEndian(data[3..]);
        if (Fixed && length > data.Length - 5)
            return -1;
        int sum = 0;
        for (int i = 0; i < length; i++)
            sum += data[5 + i];
        return sum;
    }
}
