namespace Kcov.Fuzzing.Options;

/// <summary>
/// One row of the flags table: its libFuzzer name, its default, its help line, and how
/// its value lands in <see cref="FuzzerOptions"/>. The parser, <c>-help=1</c> and the
/// docs all read the same rows, so they cannot disagree.
/// </summary>
/// <param name="Name">The name after the dash, as libFuzzer spells it (<c>max_len</c>).</param>
/// <param name="Default">The default as shown in help.</param>
/// <param name="Help">One line: what the flag does.</param>
/// <param name="Apply">Parses the text after '=' into the options; returns an error message, or null.</param>
/// <param name="Extension">True for Kcov.NET's own flags, which libFuzzer does not have.</param>
internal sealed record FuzzerFlag(
    string Name,
    string Default,
    string Help,
    Func<FuzzerOptions, string, string?> Apply,
    bool Extension = false);
