using System.IO.MemoryMappedFiles;

namespace Kcov;

/// <summary>
/// A view of a coverage area: 64-bit words, word 0 is the count of the entries
/// that follow (PCs, or 4-word comparison records). The words are shared memory
/// (see <see cref="SharedMemoryFile"/>: a memfd on Linux, owner-only like debugfs's
/// 0600), so another process of the same user opens the same words by
/// <see cref="SharedName"/> and reads coverage without calling into the process
/// that writes it.
/// </summary>
/// <remarks>
/// Every view is its own mapping: disposing one never unmaps memory another
/// view, or a thread still tracing into the device's own mapping, writes to. The
/// memory lives while any view of it, in any process, does, and is freed by the
/// kernel after that however the processes ended: nothing is left in /dev/shm. The
/// name works while the device's own mapping lives (until the device is freed): a
/// process that must read the area after the writer ended maps it before that.
/// </remarks>
public sealed unsafe class KcovArea : IDisposable
{
    /// <summary>What the shared memory of an area is called (the memfd name, or the fallback file's prefix).</summary>
    internal const string Kind = "kcov-area";

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly ulong* _words;
    private readonly int _wordCount;
    private int _disposed;

    /// <summary>The shared memory this view created (the device's own mapping), or null for a view opened by name.</summary>
    private readonly SharedMemoryFile? _created;

    private KcovArea(string sharedName, FileStream stream, long bytes, SharedMemoryFile? created)
    {
        SharedName = sharedName;
        _created = created;
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
    /// <exception cref="InvalidDataException">The name names something that is not a kcov area.</exception>
    public static KcovArea OpenShared(string sharedName)
    {
        ArgumentException.ThrowIfNullOrEmpty(sharedName);
        FileStream stream;
        try
        {
            stream = new FileStream(sharedName, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException(
                $"No kcov area named '{sharedName}': its device was closed (or its process ended), or the name is not one a KcovArea.SharedName gave.",
                sharedName, e);
        }
        long bytes = stream.Length;
        // A /proc name outlives the area it named: the number may have been reused for any file
        // since, which must never be mapped and written as coverage.
        if (!SharedMemoryFile.Is(stream, Kind) || bytes < 2 * sizeof(ulong) || bytes % sizeof(ulong) != 0)
        {
            stream.Dispose();
            throw new InvalidDataException($"'{sharedName}' is not a kcov area (any more): its device was closed (or its process ended), or the name is not one a KcovArea.SharedName gave.");
        }
        return new KcovArea(sharedName, stream, bytes, null);
    }

    /// <summary>Creates a new zeroed area of <paramref name="words"/> words with a fresh name.</summary>
    internal static KcovArea Create(long words)
    {
        long bytes = words * sizeof(ulong);
        var file = SharedMemoryFile.Create(Kind, bytes);
        try
        {
            return new KcovArea(file.SharedName, file.Stream, bytes, file);
        }
        catch
        {
            file.Stream.Dispose();
            file.Unlink();
            throw;
        }
    }

    /// <summary>
    /// The device frees the area: removes its name where it has one in the file system (no /proc).
    /// A memfd needs nothing: its /proc name goes with the device's mapping, the memory with the last view.
    /// </summary>
    internal void Unlink() => _created?.Unlink();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
