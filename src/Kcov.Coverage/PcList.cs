using System.Globalization;

namespace Kcov.Coverage;

/// <summary>
/// Text lists of PCs as kcov's example prints them: one per line, hex, with or without <c>0x</c>.
/// Blank lines are skipped; anything else is an error naming the line.
/// </summary>
public static class PcList
{
    /// <summary>Parses every line of <paramref name="reader"/>.</summary>
    /// <exception cref="FormatException">A line is not a hex PC; the message names the line and source.</exception>
    public static IEnumerable<ulong> Read(TextReader reader, string source)
    {
        int number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            var text = line.AsSpan().Trim();
            if (text.IsEmpty)
                continue;
            if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
                text = text[2..];
            if (text.IsEmpty || text.Length > 16 || !ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong pc))
                throw new FormatException($"{source}:{number}: '{line.Trim()}' is not a PC; expected one hex number per line, like 0x1a2b3c4d00000007.");
            yield return pc;
        }
    }

    /// <summary>kcov's example's format: <c>0x%lx</c>, one per line.</summary>
    public static string Format(ulong pc) => "0x" + pc.ToString("x", CultureInfo.InvariantCulture);
}
