using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Kcov;

/// <summary>
/// Shared memory that nobody has to clean up: on Linux an anonymous memfd, which other processes
/// of the same user open by the name <c>/proc/&lt;pid&gt;/fd/&lt;fd&gt;</c> while this process holds
/// it. The kernel frees it when its last holder (descriptor or mapping, in any process) is gone,
/// however each one ended: exit, exception, SIGKILL, stack overflow. So nothing is ever left in
/// /dev/shm, nothing has to be swept, and no sweeper can remove a live area of another process or
/// container (PIDs say nothing across PID namespaces that share /dev/shm).
/// <para>
/// Where memfd_create is refused (a kernel before 3.17, a seccomp policy), a file is created in
/// /dev/shm and unlinked as soon as it is open, so the /proc name still works and only a kill in
/// that instant could leave it. Without /proc (not Linux) the file keeps its name until
/// <see cref="Unlink"/>: such a file is all a crash can leave behind.
/// </para>
/// </summary>
internal sealed partial class SharedMemoryFile
{
    private const uint MfdCloexec = 1;
    private static long s_created;

    private SharedMemoryFile(FileStream stream, string sharedName, string? namedPath)
    {
        Stream = stream;
        SharedName = sharedName;
        NamedPath = namedPath;
    }

    /// <summary>The open file, sized, owner-only (like debugfs's 0600).</summary>
    public FileStream Stream { get; }

    /// <summary>The path another process opens: /proc/&lt;pid&gt;/fd/&lt;fd&gt; on Linux.</summary>
    public string SharedName { get; }

    /// <summary>A name in the file system to remove at free (no /proc), or null.</summary>
    public string? NamedPath { get; }

    /// <summary>
    /// Creates <paramref name="bytes"/> zeroed bytes of shared memory. <paramref name="kind"/> ("kcov-area")
    /// starts its name, <c>&lt;kind&gt;-&lt;pid&gt;-&lt;n&gt;</c>, unique in this process: /proc/&lt;pid&gt;/fd/&lt;fd&gt;
    /// links to "/memfd:&lt;name&gt; (deleted)", which tells one area from the next one given the same fd.
    /// </summary>
    /// <exception cref="IOException">No memory or no space for it.</exception>
    public static SharedMemoryFile Create(string kind, long bytes)
    {
        string name = $"{kind}-{Environment.ProcessId}-{Interlocked.Increment(ref s_created)}";
        if (OperatingSystem.IsLinux() && TryMemfd(name) is { } handle)
        {
            var stream = new FileStream(handle, FileAccess.ReadWrite);
            return Sized(new SharedMemoryFile(stream, ProcName(handle), null), bytes);
        }
        string dir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string path = Path.Combine(dir, $"{name}-{Random.Shared.Next():x8}");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
        };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var file = new FileStream(path, options);
        if (Directory.Exists("/proc/self/fd"))
        {
            // Open, so the name is no longer needed: /proc names the open file from now on.
            TryDelete(path);
            return Sized(new SharedMemoryFile(file, ProcName(file.SafeFileHandle), null), bytes);
        }
        return Sized(new SharedMemoryFile(file, path, path), bytes);
    }

    /// <summary>
    /// Whether <paramref name="stream"/>, opened by a name someone gave us, is shared memory of this
    /// kind. Read from our own descriptor's /proc link, so it is what we opened, not what the name
    /// pointed to a moment before: a name of a freed area may meanwhile name any other file.
    /// </summary>
    public static bool Is(FileStream stream, string kind)
    {
        string self = $"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}";
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self/fd"))
            return Path.GetFileName(stream.Name).StartsWith(kind + "-", StringComparison.Ordinal);
        string? target = new FileInfo(self).LinkTarget;
        // "/memfd:kcov-area-12-3 (deleted)", or the unlinked fallback "/dev/shm/kcov-area-12-3-5f0e (deleted)".
        return target is not null && target.EndsWith(" (deleted)", StringComparison.Ordinal)
            && (target.StartsWith($"/memfd:{kind}-", StringComparison.Ordinal) || Path.GetFileName(target).StartsWith(kind + "-", StringComparison.Ordinal));
    }

    /// <summary>Removes the name a file kept where there is no /proc; the memory stays until its holders go.</summary>
    public void Unlink()
    {
        if (NamedPath is not null)
            TryDelete(NamedPath);
    }

    private static SharedMemoryFile Sized(SharedMemoryFile file, long bytes)
    {
        try
        {
            file.Stream.SetLength(bytes);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(file.Stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return file;
        }
        catch
        {
            file.Stream.Dispose();
            file.Unlink();
            throw;
        }
    }

    private static string ProcName(SafeFileHandle handle) => $"/proc/{Environment.ProcessId}/fd/{handle.DangerousGetHandle()}";

    private static SafeFileHandle? TryMemfd(string name)
    {
        try
        {
            int fd = MemfdCreate(name, MfdCloexec);
            return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    // memfd_create(2). .NET has no API for it; libc is all the runtime links against.
    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, uint flags);
}
