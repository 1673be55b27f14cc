using System.Diagnostics;

// Linked into the test projects that need it (see their .csproj), so it is written once.
namespace Kcov.Tests;

/// <summary>
/// Runs a command with a /dev/shm of its own: a fresh tmpfs mounted over /dev/shm in a private
/// mount namespace (<c>unshare -Urm</c>), listed when the command has ended. What the listing shows
/// is exactly what the command's processes left there, whatever other test runs on this machine
/// do in the real /dev/shm at the same time, and nothing of theirs can be touched.
/// </summary>
internal static class PrivateShm
{
    /// <summary>The line after which the wrapper lists /dev/shm on stdout.</summary>
    public const string Marker = "== kcov test: /dev/shm after the command:";

    /// <summary>The file that fills a full /dev/shm; not something the command left.</summary>
    public const string Filler = "kcov-test-filler";

    /// <summary>
    /// <paramref name="inner"/>, run inside the namespace by a shell that then lists /dev/shm and
    /// exits with the command's code. <paramref name="full"/>: /dev/shm has no free byte.
    /// </summary>
    public static ProcessStartInfo Wrap(ProcessStartInfo inner, bool full = false) => Wrap(inner, full, [], "");

    /// <summary>
    /// <see cref="Wrap(ProcessStartInfo, bool)"/>, and each of <paramref name="smallDirectories"/> (relative to the
    /// working directory) a tmpfs of its own with only <c>FreeKb</c> KiB free, which the real file system errors
    /// (ENOSPC) come from; <paramref name="after"/> is shell run in the namespace when the command has ended
    /// (what it prints lands before the listing), to look at those directories, which nothing outside sees.
    /// </summary>
    public static ProcessStartInfo Wrap(ProcessStartInfo inner, bool full, (string Directory, int FreeKb)[] smallDirectories, string after)
    {
        string mounts = string.Concat(smallDirectories.Select(d =>
            $"mkdir -p '{d.Directory}' && mount -t tmpfs -o size={d.FreeKb + 16}k tmpfs '{d.Directory}' && head -c {16 << 10} /dev/zero > '{d.Directory}/.{Filler}' || exit 125; "));
        if (!File.Exists("/usr/bin/unshare"))
            throw new InvalidOperationException("these tests need util-linux's unshare (apt-get install util-linux) and user namespaces");
        string fill = full ? $"head -c 1048576 /dev/zero > /dev/shm/{Filler} 2>/dev/null; " : "";
        var outer = new ProcessStartInfo("/usr/bin/unshare")
        {
            RedirectStandardOutput = inner.RedirectStandardOutput,
            RedirectStandardError = inner.RedirectStandardError,
            RedirectStandardInput = inner.RedirectStandardInput,
            UseShellExecute = false,
            WorkingDirectory = inner.WorkingDirectory,
        };
        // After the command, wait (30 s at most) until this shell is the last process in the namespace:
        // what the command started (a fuzzer's executors) may outlive it, and must end before the listing.
        const string WaitForOthers =
            "i=0; while [ $i -lt 600 ]; do n=0; for p in /proc/[0-9]*; do [ \"$p/ns/mnt\" -ef /proc/$$/ns/mnt ] && n=$((n+1)); done; " +
            "[ $n -le 1 ] && break; i=$((i+1)); sleep 0.05; done; ";
        foreach (var a in new[] { "-Urm", "sh", "-c",
            $"mount -t tmpfs -o size={(full ? "4k" : "64m")} tmpfs /dev/shm || exit 125; {fill}{mounts}\"$@\"; status=$?; {WaitForOthers}{after}echo '{Marker}'; ls -A /dev/shm; exit $status",
            "sh", inner.FileName })
            outer.ArgumentList.Add(a);
        foreach (var a in inner.ArgumentList)
            outer.ArgumentList.Add(a);
        foreach (var (key, value) in inner.Environment)
            outer.Environment[key] = value;
        return outer;
    }

    /// <summary>The names the command left in its /dev/shm (the filler excluded), from the wrapper's stdout.</summary>
    public static string[] Left(string stdout)
    {
        int at = stdout.LastIndexOf(Marker, StringComparison.Ordinal);
        if (at < 0)
            throw new InvalidOperationException($"the /dev/shm listing is missing (did the namespace start?); stdout:\n{stdout}");
        return stdout[(at + Marker.Length)..].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(name => name != Filler).ToArray();
    }

    /// <summary>The command's own stdout, without the listing.</summary>
    public static string Output(string stdout)
    {
        int at = stdout.LastIndexOf(Marker, StringComparison.Ordinal);
        return at < 0 ? stdout : stdout[..at];
    }
}
