namespace Kcov.Tests;

/// <summary>What an area's shared name names right now.</summary>
internal static class SharedNames
{
    /// <summary>
    /// The shared memory the name reaches ("/memfd:kcov-area-&lt;pid&gt;-&lt;n&gt; (deleted)", unique per
    /// area), or null when it reaches nothing. A /proc/&lt;pid&gt;/fd/&lt;fd&gt; name of a freed area can
    /// reach the next file given that fd, so "gone" is "no longer this area", not "no such path".
    /// </summary>
    public static string? Target(string sharedName) =>
        new FileInfo(sharedName).LinkTarget ?? (File.Exists(sharedName) ? sharedName : null);
}
