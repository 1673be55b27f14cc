using Kcov.Coverage;

namespace Kcov.Fuzzing.Crashes;

/// <summary>
/// The block an exception was thrown from, named through the PC maps beside the harness (the
/// instrumented app): "Function (File.cs:line)". That block is the last one in the input's kcov trace
/// when the exception was thrown, which does not depend on what the JIT inlined or on the stack's
/// approximate line numbers in optimized code, so it is what findings are deduplicated on.
/// </summary>
internal static class ThrowSite
{
    private static readonly Lazy<Symbolizer?> s_symbolizer = new(() =>
    {
        try
        {
            return Symbolizer.LoadDirectory(AppContext.BaseDirectory);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null; // no PC maps: the raw PC still names the block exactly
        }
    });

    /// <summary>"Function (File.cs:line)" for a site's PC, or its hex value when no map knows it.</summary>
    public static string Describe(ulong pc)
    {
        if (s_symbolizer.Value?.Symbolize(pc) is { Function: not "??" } s)
            return s.File is null ? s.Function : $"{s.Function} ({Path.GetFileName(s.File)}:{s.Line})";
        return $"0x{pc:x16}";
    }

    /// <summary>"Function file:line" with the full source path, for the report.</summary>
    public static string DescribeLong(ulong pc)
    {
        if (s_symbolizer.Value?.Symbolize(pc) is { Function: not "??" } s)
            return s.File is null ? $"0x{pc:x16} {s.Function}" : $"0x{pc:x16} {s.Function} {s.File}:{s.Line}";
        return $"0x{pc:x16}";
    }
}
