using System.Text.RegularExpressions;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// Removes kcov files under /dev/shm whose process is gone (kcov-&lt;pid&gt;-... areas and
/// kcov-fuzz-&lt;pid&gt;-... control blocks): a process killed with SIGKILL cannot remove its own,
/// and /dev/shm is memory. Files of live processes, and files we may not delete, stay.
/// </summary>
internal static partial class SharedMemorySweeper
{
    [GeneratedRegex(@"^kcov-(?:fuzz-)?(\d+)-")]
    private static partial Regex OwnerPid();

    public static int Sweep(string directory = "/dev/shm")
    {
        if (!Directory.Exists(directory) || !Directory.Exists("/proc"))
            return 0;
        int removed = 0;
        foreach (var path in Directory.EnumerateFiles(directory, "kcov-*"))
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
