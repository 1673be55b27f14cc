namespace Kcov.Cli;

/// <summary>The streams a verb reads and writes: the process's, or a test's.</summary>
public sealed record Streams(TextReader In, TextWriter Out, TextWriter Error);
