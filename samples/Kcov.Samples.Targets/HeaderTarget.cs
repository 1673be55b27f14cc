using System.Text;

namespace Kcov.Samples.Targets;

/// <summary>
/// A string comparison hint: the bug sits behind <c>header == "KCOVNET/2.0"</c>, a comparison that runs
/// in CoreLib. The call-site hook records the header the input gave and the one expected.
/// </summary>
public static class HeaderTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        string text = Encoding.UTF8.GetString(data);
        int newline = text.IndexOf('\n');
        string header = newline < 0 ? text : text[..newline];
        if (header == "KCOVNET/2.0")
            throw new InvalidDataException("planted bug: a KCOVNET/2.0 header was accepted");
    }
}
