namespace Kcov.Samples.Targets;

/// <summary>
/// A byte-span comparison hint: <c>input.AsSpan().StartsWith("%PDF-1."u8)</c> (a UTF-8 literal, which is
/// no string literal, so not in the auto dictionary), then a version digit.
/// </summary>
public static class PdfTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        if (!input.AsSpan().StartsWith("%PDF-1."u8))
            return;
        if (input.Length > 7 && input[7] == (byte)'9')
            throw new NotSupportedException("planted bug: PDF 1.9 is not a version");
    }
}
