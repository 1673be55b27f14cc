namespace Kcov.Coverage;

/// <summary>
/// Writes a file so that readers see the old content or the new one, never a part:
/// the bytes go to a temporary file in the same directory (same file system), which
/// then replaces the target in one rename. A crash mid-write leaves the target as it was.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, then moves it into place.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="write">Writes the content.</param>
    /// <param name="flushToDisk">
    /// True (the default): the bytes reach the disk before the rename, so the file survives the loss of
    /// the machine. False: atomic against the death of this process only (what the kernel was given
    /// survives it), for files that come by the thousand per second and can be made again (a fuzzer's corpus).
    /// </param>
    public static void Write(string path, Action<Stream> write, bool flushToDisk = true)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes, bool flushToDisk = true)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy), flushToDisk);
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> atomically.</summary>
    public static void Copy(string source, string destination) =>
        Write(destination, s =>
        {
            using var input = File.OpenRead(source);
            input.CopyTo(s);
        });
}
