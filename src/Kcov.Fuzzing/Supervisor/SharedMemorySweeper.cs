using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Removes kcov files whose process is gone: kcov-&lt;pid&gt;-... areas and kcov-fuzz-&lt;pid&gt;-...
/// control blocks under /dev/shm, and kcov-fuzz-&lt;pid&gt;-....sock supervisor sockets in the temp
/// directory. A process killed with SIGKILL cannot remove its own, and /dev/shm is memory. Files of
/// live processes, and files we may not delete, stay.
/// </summary>
internal static partial class SharedMemorySweeper
{
    [GeneratedRegex(@"^kcov-(?:fuzz-)?(\d+)-")]
    private static partial Regex OwnerPid();

    public static int Sweep() => Sweep("/dev/shm", "kcov-*") + Sweep(Path.GetTempPath(), "kcov-fuzz-*.sock");

    public static int Sweep(string directory, string pattern)
    {
        if (!Directory.Exists(directory) || !Directory.Exists("/proc"))
            return 0;
        int removed = 0;
        foreach (var path in Directory.EnumerateFiles(directory, pattern))
        {
            var m = OwnerPid().Match(Path.GetFileName(path));
            if (!m.Success || Directory.Exists($"/proc/{m.Groups[1].Value}"))
                continue;
            try
            {
                File.Delete(path);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }
}
