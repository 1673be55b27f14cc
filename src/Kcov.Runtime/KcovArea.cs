using System.IO.MemoryMappedFiles;

namespace Kcov;

/// <summary>
/// A view of a coverage area: 64-bit words, word 0 is the count of the entries
/// that follow (PCs, or 4-word comparison records). The words live in a file
/// mapped into memory (under /dev/shm on Linux, owner-only like debugfs's 0600),
/// so another process opens the same words by <see cref="SharedName"/> and reads
/// coverage without calling into the process that writes it.
/// </summary>
/// <remarks>
/// Every view is its own mapping: disposing one never unmaps memory another
/// view, or a thread still tracing into the device's own mapping, writes to.
/// .NET on Linux has no named shared memory, hence a file.
/// </remarks>
public sealed unsafe class KcovArea : IDisposable
{
    private static long s_created;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly ulong* _words;
    private readonly int _wordCount;
    private int _disposed;

    private KcovArea(string sharedName, FileStream stream, long bytes)
    {
        SharedName = sharedName;
        _file = MemoryMappedFile.CreateFromFile(stream, mapName: null, bytes,
            MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _words = (ulong*)(p + _view.PointerOffset);
        _wordCount = checked((int)(bytes / sizeof(ulong)));
    }

    /// <summary>The path another process passes to <see cref="OpenShared"/> to map these words.</summary>
    public string SharedName { get; }

    /// <summary>The area's words; word 0 is the number of entries that follow.</summary>
    public Span<ulong> Words
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return new Span<ulong>(_words, _wordCount);
        }
    }

    /// <summary>The area's size in 64-bit words.</summary>
    public int WordCount => _wordCount;

    /// <summary>Where the trace path writes; valid until this view is disposed.</summary>
    internal ulong* Pointer => _words;

    /// <summary>Maps an existing area by the name another process got from <see cref="SharedName"/>.</summary>
    /// <exception cref="FileNotFoundException">No area of that name exists (its device was freed, or the name is wrong).</exception>
    public static KcovArea OpenShared(string sharedName)
    {
        ArgumentException.ThrowIfNullOrEmpty(sharedName);
        FileStream stream;
        try
        {
            stream = new FileStream(sharedName, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException(
                $"No kcov area named '{sharedName}': its device was closed, or the name is not one a KcovArea.SharedName gave.",
                sharedName, e);
        }
        long bytes = stream.Length;
        if (bytes < 2 * sizeof(ulong) || bytes % sizeof(ulong) != 0)
        {
            stream.Dispose();
            throw new InvalidDataException($"'{sharedName}' is {bytes} bytes long, which is not a kcov area (a whole number of 64-bit words, at least 2).");
        }
        return new KcovArea(sharedName, stream, bytes);
    }

    /// <summary>Creates a new zeroed area of <paramref name="words"/> words with a fresh name.</summary>
    internal static KcovArea Create(long words)
    {
        long bytes = words * sizeof(ulong);
        string dir = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string name = Path.Combine(dir,
            $"kcov-{Environment.ProcessId}-{Interlocked.Increment(ref s_created)}-{Random.Shared.Next():x8}");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
        };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var stream = new FileStream(name, options);
        try
        {
            stream.SetLength(bytes);
            return new KcovArea(name, stream, bytes);
        }
        catch
        {
            stream.Dispose();
            TryDelete(name);
            throw;
        }
    }

    /// <summary>Removes the area's name; mappings that exist stay valid until disposed.</summary>
    internal void Unlink() => TryDelete(SharedName);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
