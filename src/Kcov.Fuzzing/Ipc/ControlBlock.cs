using System.IO.MemoryMappedFiles;

namespace Kcov.Fuzzing.Ipc;

/// <summary>
/// The shared memory between the supervisor and its executors: one memfd (see Kcov.Runtime's
/// SharedMemoryFile: nothing is left in /dev/shm, whoever dies), mapped by both sides. The executor
/// is its only writer during a run; the supervisor reads it, and reads it again after the executor
/// died, which is the point: the input that killed an executor is still here.
/// <code>
/// header (64 bytes): magic u64 | total execs i64 | runs limit i64 | stop i32 | slots i32 | max_len i32
/// slot k (at 64 + k * SlotSize): heartbeat i64 | state i32 | input length i32 | trace mode i32 | short timeout i32 |
///                                  parent u64 | trace offset i32 | (pad to 64) | input bytes[max_len]
/// </code>
/// Every executor increments "total execs" atomically, so <c>-runs</c> bounds the whole
/// campaign exactly, however many executors there are and however often they restart.
/// Each side of this layout is this one type (Executor/ExecutionGate.cs writes it,
/// Supervisor/ExecutorPool.cs reads it, both through the members below).
/// <para>
/// The target runs in the executor and may scribble anywhere in its memory (unsafe code, native
/// libraries), this block included. So every size and offset comes from this object's own copy
/// of the geometry (the supervisor's, or what the executor validated once at open), never from
/// the shared words, and what the supervisor reads is checked (<see cref="CheckHeader"/>,
/// <see cref="CheckSlot"/>) before it is believed: a block that fails a check is garbage, and
/// the executor that wrote it is killed, not followed.
/// </para>
/// </summary>
internal sealed unsafe class ControlBlock : IDisposable
{
    private const ulong Magic = 0x5A5A5546564F434B; // "KCOVFUZZ"
    private const int HeaderSize = 64, SlotHeaderSize = 64;
    private const string Kind = "kcov-fuzz";
    public const int StateIdle = 0, StateRunning = 1;

    private readonly SharedMemoryFile? _created;
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly int _slots, _maxLen, _slotSize;
    private readonly long _runsLimit;
    /// <summary>The highest count of executions believed so far: the shared word only ever grows within the -runs limit.</summary>
    private long _execsSeen;

    private ControlBlock(string path, FileStream stream, SharedMemoryFile? created, int slots, int maxLen, long runsLimit)
    {
        Path = path;
        _created = created;
        _slots = slots;
        _maxLen = maxLen;
        _slotSize = SlotSizeFor(maxLen);
        _runsLimit = runsLimit;
        long bytes = HeaderSize + (long)slots * _slotSize;
        if (stream.Length < bytes)
            throw new InvalidDataException($"'{path}' is {stream.Length} bytes, too short for a control block of {slots} slots of {maxLen} bytes");
        // Capacity 0: the whole file, which may be longer than the header says (never shorter: checked above).
        _file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
    }

    /// <summary>The name executors open the block by (/proc/&lt;supervisor pid&gt;/fd/&lt;fd&gt;).</summary>
    public string Path { get; }

    private ref long TotalExecsWord => ref *(long*)(_base + 8);
    private ref long RunsLimitWord => ref *(long*)(_base + 16);
    private ref int StopWord => ref *(int*)(_base + 24);
    private ref int SlotsWord => ref *(int*)(_base + 28);
    private ref int MaxLenWord => ref *(int*)(_base + 32);

    /// <summary>The longest input a slot holds (this object's copy, not the shared word).</summary>
    public int MaxLen => _maxLen;

    private static int SlotSizeFor(int maxLen) => checked((SlotHeaderSize + maxLen + 63) & ~63);

    private byte* Slot(int k)
    {
        // Never an offset the shared words chose.
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, _slots);
        return _base + HeaderSize + (long)k * _slotSize;
    }

    /// <summary>Creates a zeroed block with <paramref name="slots"/> executor slots (the supervisor's side).</summary>
    public static ControlBlock Create(int slots, int maxLen, long runsLimit)
    {
        var file = SharedMemoryFile.Create(Kind, HeaderSize + (long)slots * SlotSizeFor(maxLen));
        ControlBlock block;
        try
        {
            block = new ControlBlock(file.SharedName, file.Stream, file, slots, maxLen, runsLimit);
        }
        catch
        {
            file.Stream.Dispose();
            file.Unlink();
            throw;
        }
        block.WriteHeader();
        return block;
    }

    /// <summary>Maps the block the supervisor created (the executor's side), with the geometry its header gives now.</summary>
    public static ControlBlock Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> header = stackalloc byte[HeaderSize];
        try
        {
            stream.ReadExactly(header);
            stream.Position = 0;
            if (BitConverter.ToUInt64(header) != Magic)
                throw new InvalidDataException($"'{path}' is not a Kcov.Fuzzing control block");
            int slots = BitConverter.ToInt32(header[28..]), maxLen = BitConverter.ToInt32(header[32..]);
            if (slots <= 0 || maxLen < 0 || maxLen > int.MaxValue - 128)
                throw new InvalidDataException($"'{path}' has a control block header that makes no sense ({slots} slots of {maxLen} bytes)");
            return new ControlBlock(path, stream, null, slots, maxLen, BitConverter.ToInt64(header[16..]));
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The supervisor's header, written at creation and again after an executor overwrote it.</summary>
    public void WriteHeader()
    {
        SlotsWord = _slots;
        MaxLenWord = _maxLen;
        RunsLimitWord = _runsLimit;
        // Magic last: pairs with Open's read of it.
        Volatile.Write(ref *(ulong*)_base, Magic);
    }

    /// <summary>What is wrong with the header, or null. Executions and the stop word are the executors' to write.</summary>
    public string? CheckHeader()
    {
        ulong magic = Volatile.Read(ref *(ulong*)_base);
        if (magic != Magic)
            return $"the control block's magic is 0x{magic:x16}";
        if (SlotsWord != _slots || MaxLenWord != _maxLen || RunsLimitWord != _runsLimit)
            return $"the control block's header says {SlotsWord} slots of {MaxLenWord} bytes and {RunsLimitWord} runs, not {_slots}, {_maxLen} and {_runsLimit}";
        long execs = Volatile.Read(ref TotalExecsWord);
        if (execs < 0)
            return $"the control block counts {execs} executions";
        return null;
    }

    /// <summary>What is wrong with slot <paramref name="slot"/>, or null.</summary>
    public string? CheckSlot(int slot)
    {
        byte* s = Slot(slot);
        int state = Volatile.Read(ref *(int*)(s + 8)), length = Volatile.Read(ref *(int*)(s + 12)), mode = Volatile.Read(ref *(int*)(s + 16));
        if (state is not (StateIdle or StateRunning))
            return $"slot {slot} has state 0x{state:x8}";
        if (length < 0 || length > _maxLen)
            return $"slot {slot} holds an input of {length} bytes (at most {_maxLen})";
        if (!Enum.IsDefined((KcovMode)mode))
            return $"slot {slot} has trace mode 0x{mode:x8}";
        int offset = Volatile.Read(ref *(int*)(s + 32));
        if (offset < 0)
            return $"slot {slot} has trace offset {offset}";
        return null;
    }

    /// <summary>
    /// Executions of the whole campaign so far: the shared count, believed only as far as it can be
    /// true (it never goes back, nor past the -runs limit), since the target can write it.
    /// </summary>
    public long TotalExecs
    {
        get
        {
            long n = Volatile.Read(ref TotalExecsWord);
            if (_runsLimit >= 0)
                n = Math.Min(n, _runsLimit);
            long seen = Volatile.Read(ref _execsSeen);
            while (n > seen)
            {
                long was = Interlocked.CompareExchange(ref _execsSeen, n, seen);
                if (was == seen)
                    return n;
                seen = was;
            }
            return seen;
        }
    }

    /// <summary>
    /// Claims the next execution of the campaign; false once -runs are used up or a stop was asked.
    /// An execution that is not <paramref name="bounded"/> (a seed input: libFuzzer runs the whole
    /// initial corpus whatever -runs says) is counted but never refused for -runs.
    /// </summary>
    public bool TryClaimExecution(bool bounded = true)
    {
        if (Volatile.Read(ref StopWord) != 0)
            return false;
        long n = Interlocked.Increment(ref TotalExecsWord);
        if (bounded && _runsLimit >= 0 && n > _runsLimit)
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
    /// <param name="traceOffset">The word of the area where the trace (its count) starts: the unique-mode bitmap's size, else 0.</param>
    public void BeginInput(int slot, ReadOnlySpan<byte> input, KcovMode mode, ulong parent = 0, bool shortTimeout = false, int traceOffset = 0)
    {
        byte* s = Slot(slot);
        int len = Math.Min(input.Length, _maxLen);
        input[..len].CopyTo(new Span<byte>(s + SlotHeaderSize, len));
        *(int*)(s + 12) = len;
        *(int*)(s + 16) = (int)mode;
        *(int*)(s + 20) = shortTimeout ? 1 : 0;
        *(ulong*)(s + 24) = parent;
        *(int*)(s + 32) = traceOffset;
        // Input, then heartbeat, then state: pairs with the reads in Heartbeat/State/ReadInput.
        Volatile.Write(ref *(long*)s, *(long*)s + 1);
        Volatile.Write(ref *(int*)(s + 8), StateRunning);
    }

    /// <summary>The executor, after the input returned (or threw).</summary>
    public void EndInput(int slot) => Volatile.Write(ref *(int*)(Slot(slot) + 8), StateIdle);

    /// <summary>Inputs this slot's executors have started (it grows by one per input).</summary>
    public long Heartbeat(int slot) => Volatile.Read(ref *(long*)Slot(slot));

    public int State(int slot) => Volatile.Read(ref *(int*)(Slot(slot) + 8));

    /// <summary>The trace mode of the slot's last input (check the slot first: see <see cref="CheckSlot"/>).</summary>
    public KcovMode TraceMode(int slot) => (KcovMode)Volatile.Read(ref *(int*)(Slot(slot) + 16));

    /// <summary>
    /// Where the trace of the slot's last input starts in the executor's area (check the slot first): the
    /// words of the unique-mode bitmap, 0 in trace-pc and trace-cmp. The reader bounds it by the area.
    /// </summary>
    public int TraceOffset(int slot) => Volatile.Read(ref *(int*)(Slot(slot) + 32));

    /// <summary>Whether the slot's current input runs under the short timeout.</summary>
    public bool ShortTimeout(int slot) => Volatile.Read(ref *(int*)(Slot(slot) + 20)) != 0;

    /// <summary>The hash of the corpus input the slot's last input was derived from (0: none).</summary>
    public ulong Parent(int slot) => Volatile.Read(ref *(ulong*)(Slot(slot) + 24));

    /// <summary>The last input the slot's executor started: after its death, the one that killed it. At most MaxLen bytes, whatever the slot says.</summary>
    public byte[] ReadInput(int slot)
    {
        byte* s = Slot(slot);
        int len = Math.Clamp(Volatile.Read(ref *(int*)(s + 12)), 0, _maxLen);
        return new ReadOnlySpan<byte>(s + SlotHeaderSize, len).ToArray();
    }

    /// <summary>Clears a slot for a new executor.</summary>
    public void ResetSlot(int slot)
    {
        byte* s = Slot(slot);
        Volatile.Write(ref *(int*)(s + 8), StateIdle);
        *(int*)(s + 12) = 0;
        *(int*)(s + 16) = (int)KcovMode.TracePc;
        *(int*)(s + 32) = 0;
    }

    /// <summary>Unmaps the block; the supervisor's side also lets the memory go (executors' mappings keep it until they exit).</summary>
    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        _created?.Unlink();
    }
}
