using System.IO.MemoryMappedFiles;

namespace Kcov.Fuzzing.Ipc;

/// <summary>
/// The shared memory between the supervisor and its executors: one file under /dev/shm
/// (owner-only, like the kcov area), mapped by both sides. The executor is its only writer
/// during a run; the supervisor reads it, and reads it again after the executor died,
/// which is the point: the input that killed an executor is still here.
/// <code>
/// header (64 bytes): magic u64 | total execs i64 | runs limit i64 | stop i32 | slots i32 | max_len i32
/// slot k (at 64 + k * SlotSize): heartbeat i64 | state i32 | input length i32 | trace mode i32 | short timeout i32 |
///                                  parent u64 | (pad to 64) | input bytes[max_len]
/// </code>
/// Every executor increments "total execs" atomically, so <c>-runs</c> bounds the whole
/// campaign exactly, however many executors there are and however often they restart.
/// Each side of this layout is this one type (Executor/ExecutionGate.cs writes it,
/// Supervisor/ExecutorPool.cs reads it, both through the members below).
/// </summary>
internal sealed unsafe class ControlBlock : IDisposable
{
    private const ulong Magic = 0x5A5A5546564F434B; // "KCOVFUZZ"
    private const int HeaderSize = 64, SlotHeaderSize = 64;
    public const int StateIdle = 0, StateRunning = 1;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;

    private ControlBlock(string path, FileStream stream, long bytes)
    {
        Path = path;
        _file = MemoryMappedFile.CreateFromFile(stream, null, bytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
    }

    public string Path { get; }

    private ref long TotalExecsWord => ref *(long*)(_base + 8);
    private ref long RunsLimitWord => ref *(long*)(_base + 16);
    private ref int StopWord => ref *(int*)(_base + 24);
    public int MaxLen => *(int*)(_base + 32);
    private int SlotSize => (SlotHeaderSize + MaxLen + 63) & ~63;
    private byte* Slot(int k) => _base + HeaderSize + (long)k * SlotSize;

    /// <summary>Creates a zeroed block with <paramref name="slots"/> executor slots.</summary>
    public static ControlBlock Create(int slots, int maxLen, long runsLimit)
    {
        string dir = Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        string path = System.IO.Path.Combine(dir, $"kcov-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var stream = new FileStream(path, options);
        long slotSize = (SlotHeaderSize + maxLen + 63) & ~63;
        long bytes = HeaderSize + slots * slotSize;
        stream.SetLength(bytes);
        var block = new ControlBlock(path, stream, bytes);
        *(int*)(block._base + 28) = slots;
        *(int*)(block._base + 32) = maxLen;
        block.RunsLimitWord = runsLimit;
        Volatile.Write(ref *(ulong*)block._base, Magic);
        return block;
    }

    /// <summary>Maps the block the supervisor created (the executor's side).</summary>
    public static ControlBlock Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        var block = new ControlBlock(path, stream, stream.Length);
        if (Volatile.Read(ref *(ulong*)block._base) != Magic)
        {
            block.Dispose();
            throw new InvalidDataException($"'{path}' is not a Kcov.Fuzzing control block");
        }
        return block;
    }

    /// <summary>Executions of the whole campaign so far.</summary>
    public long TotalExecs => Volatile.Read(ref TotalExecsWord);

    /// <summary>Claims the next execution of the campaign; false once -runs are used up or a stop was asked.</summary>
    public bool TryClaimExecution()
    {
        if (Volatile.Read(ref StopWord) != 0)
            return false;
        long n = Interlocked.Increment(ref TotalExecsWord);
        if (RunsLimitWord >= 0 && n > RunsLimitWord)
        {
            Interlocked.Decrement(ref TotalExecsWord);
            return false;
        }
        return true;
    }

    /// <summary>Set by the supervisor at -max_total_time or Ctrl-C; executors finish their input and exit.</summary>
    public bool StopRequested => Volatile.Read(ref StopWord) != 0;

    public void RequestStop() => Volatile.Write(ref StopWord, 1);

    /// <summary>
    /// The executor, before it runs an input: copy it where the supervisor can find it after a crash,
    /// with the trace mode the area is in (so the supervisor knows how to read the area then).
    /// </summary>
    /// <param name="slot">The executor's slot.</param>
    /// <param name="input">The input about to run.</param>
    /// <param name="mode">The trace mode of its run.</param>
    /// <param name="parent">A hash of the corpus input this one was derived from (0: none), so that the supervisor knows it if this input hangs.</param>
    /// <param name="shortTimeout">Whether the supervisor should end this input at its short timeout (it was derived from an input whose other children hung).</param>
    public void BeginInput(int slot, ReadOnlySpan<byte> input, KcovMode mode, ulong parent = 0, bool shortTimeout = false)
    {
        byte* s = Slot(slot);
        int len = Math.Min(input.Length, MaxLen);
        input[..len].CopyTo(new Span<byte>(s + SlotHeaderSize, len));
        *(int*)(s + 12) = len;
        *(int*)(s + 16) = (int)mode;
        *(int*)(s + 20) = shortTimeout ? 1 : 0;
        *(ulong*)(s + 24) = parent;
        // Input, then heartbeat, then state: pairs with the reads in Heartbeat/State/ReadInput.
        Volatile.Write(ref *(long*)s, *(long*)s + 1);
        Volatile.Write(ref *(int*)(s + 8), StateRunning);
    }

    /// <summary>The executor, after the input returned (or threw).</summary>
    public void EndInput(int slot) => Volatile.Write(ref *(int*)(Slot(slot) + 8), StateIdle);

    /// <summary>Inputs this slot's executors have started (it grows by one per input).</summary>
    public long Heartbeat(int slot) => Volatile.Read(ref *(long*)Slot(slot));

    public int State(int slot) => Volatile.Read(ref *(int*)(Slot(slot) + 8));

    /// <summary>The trace mode of the slot's last input.</summary>
    public KcovMode TraceMode(int slot) => (KcovMode)Volatile.Read(ref *(int*)(Slot(slot) + 16));

    /// <summary>Whether the slot's current input runs under the short timeout.</summary>
    public bool ShortTimeout(int slot) => Volatile.Read(ref *(int*)(Slot(slot) + 20)) != 0;

    /// <summary>The hash of the corpus input the slot's last input was derived from (0: none).</summary>
    public ulong Parent(int slot) => Volatile.Read(ref *(ulong*)(Slot(slot) + 24));

    /// <summary>The last input the slot's executor started: after its death, the one that killed it.</summary>
    public byte[] ReadInput(int slot)
    {
        byte* s = Slot(slot);
        int len = Math.Clamp(Volatile.Read(ref *(int*)(s + 12)), 0, MaxLen);
        return new ReadOnlySpan<byte>(s + SlotHeaderSize, len).ToArray();
    }

    /// <summary>Clears a slot for a new executor.</summary>
    public void ResetSlot(int slot)
    {
        byte* s = Slot(slot);
        Volatile.Write(ref *(int*)(s + 8), StateIdle);
        *(int*)(s + 12) = 0;
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>Removes the file (the supervisor's side, at the end).</summary>
    public void Unlink()
    {
        try { File.Delete(Path); } catch (IOException) { }
    }
}
