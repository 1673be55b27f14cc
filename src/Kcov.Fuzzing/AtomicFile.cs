namespace Kcov.Fuzzing;

/// <summary>
/// Writes a file so that a reader (or a restart after SIGKILL) sees either nothing or the
/// whole content: a temporary file in the same directory (one file system, so the rename is
/// atomic), then a rename over the destination.
/// </summary>
internal static class AtomicFile
{
    /// <summary>
    /// Atomic against the death of this process: what the kernel was given survives it. For corpus
    /// inputs, which come by the thousand per second and can be found again.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> content) => Write(path, content, flushToDisk: false);

    /// <summary>
    /// Also against the loss of the machine: the bytes reach the disk before the rename does. For
    /// artifacts and minimized crashes: few, and not found again.
    /// </summary>
    public static void WriteDurable(string path, ReadOnlySpan<byte> content) => Write(path, content, flushToDisk: true);

    private static void Write(string path, ReadOnlySpan<byte> content, bool flushToDisk)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }
}
