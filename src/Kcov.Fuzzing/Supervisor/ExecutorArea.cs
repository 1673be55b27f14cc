using System.IO.MemoryMappedFiles;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// An executor's kcov area, mapped read-only by the supervisor when the executor says hello. The
/// area is a memfd that lives while any mapping does, so this mapping is what keeps the trace of
/// the input that killed the executor readable after its death (see <see cref="LastBlocks"/>).
/// The executor names only a descriptor number: the path is the supervisor's own
/// (/proc/&lt;the pid it started&gt;/fd/&lt;n&gt;), and what it opens is checked to be a kcov area of the
/// expected size before it is mapped, since the executor's process runs the target.
/// </summary>
internal sealed unsafe class ExecutorArea : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly ulong* _words;
    private readonly int _wordCount;

    private ExecutorArea(FileStream stream, int words)
    {
        _file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, (long)words * sizeof(ulong), MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _words = (ulong*)(p + _view.PointerOffset);
        _wordCount = words;
    }

    /// <summary>
    /// Maps descriptor <paramref name="fd"/> of process <paramref name="pid"/> if it is a kcov area of
    /// <paramref name="words"/> words; otherwise null and <paramref name="problem"/> says why.
    /// </summary>
    public static ExecutorArea? Map(int pid, long fd, int words, out string? problem)
    {
        problem = null;
        if (fd < 0 || fd > int.MaxValue)
        {
            problem = $"it named descriptor {fd} as its kcov area";
            return null;
        }
        string path = $"/proc/{pid}/fd/{fd}";
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"its kcov area {path} cannot be opened ({e.Message})";
            return null;
        }
        if (!SharedMemoryFile.Is(stream, KcovArea.Kind) || stream.Length != (long)words * sizeof(ulong))
        {
            problem = $"its descriptor {fd} is not a kcov area of {words} words";
            stream.Dispose();
            return null;
        }
        return new ExecutorArea(stream, words);
    }

    /// <summary>The words of the area now: word 0 is the count the executor's trace path wrote.</summary>
    public ReadOnlySpan<ulong> Words => new(_words, _wordCount);

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
