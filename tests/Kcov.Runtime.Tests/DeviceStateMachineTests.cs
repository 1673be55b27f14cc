namespace Kcov.Tests;

/// <summary>
/// kcov.c's descriptor state machine as a table: every transition and every errno of
/// kcov_ioctl_locked (INIT_TRACE, ENABLE, DISABLE, unknown commands), kcov_mmap and
/// kcov_open/kcov_close. Each row runs through the ioctl-shaped face and, where the row
/// has one, through the exception face; both must give the same errno and the same state.
/// </summary>
public class DeviceStateMachineTests
{
    private const int Words = 8;
    private const long Bytes = Words * sizeof(ulong);
    private const ulong MaxWords = int.MaxValue / sizeof(ulong);

    /// <summary>Where a row starts from.</summary>
    public enum From
    {
        /// <summary>Fresh from Open().</summary>
        Opened,
        /// <summary>After KCOV_INIT_TRACE(8).</summary>
        Init,
        /// <summary>After KCOV_INIT_TRACE(8) and mmap.</summary>
        Mapped,
        /// <summary>Enabled in TRACE_PC on the row's thread.</summary>
        TracePc,
        /// <summary>Enabled in TRACE_CMP on the row's thread.</summary>
        TraceCmp,
        /// <summary>Enabled in TRACE_PC, then disabled: INIT with an area.</summary>
        DisabledAfterPc,
        /// <summary>Enabled in TRACE_CMP, then disabled.</summary>
        DisabledAfterCmp,
        /// <summary>Enabled in unique mode (KCOV_UNIQUE_ENABLE(2)) on the row's thread.</summary>
        UniquePc,
        /// <summary>Enabled in unique mode, then disabled.</summary>
        DisabledAfterUnique,
        /// <summary>Enabled in TRACE_PC on another (live) thread.</summary>
        TracePcElsewhere,
        /// <summary>Mapped, while the row's thread is bound to a second device.</summary>
        MappedThreadBusy,
        /// <summary>Closed (disposed).</summary>
        Closed,
    }

    /// <summary>One operation, in both faces. Api is null where the exception face has no equivalent.</summary>
    public sealed record Op(string Name, Func<KcovDevice, int> Abi, Action<KcovDevice>? Api, bool OnOtherThread = false);

    public sealed record Row(From From, Op Op, int Errno, string StateAfter);

    private static Op InitTrace(ulong words) => new($"KCOV_INIT_TRACE({words})",
        d => d.Ioctl(KcovAbi.InitTrace, words),
        words <= int.MaxValue ? d => d.InitTrace((int)words) : null);

    private static Op Mmap(long length, long offset) => new($"mmap({length}, {offset})",
        d =>
        {
            int r = d.Mmap(length, offset, out var area);
            Assert.Equal(r == 0, area is not null);
            area?.Dispose();
            return r;
        },
        length == Bytes && offset == 0 ? d => d.Map().Dispose() : null);

    private static Op Enable(ulong mode) => new($"KCOV_ENABLE({mode})",
        d => d.Ioctl(KcovAbi.Enable, mode),
        d => d.Enable((KcovMode)mode));

    private static Op Disable(ulong arg) => new($"KCOV_DISABLE({arg})",
        d => d.Ioctl(KcovAbi.Disable, arg),
        arg == 0 ? d => d.Disable() : null);

    private static Op UniqueEnable(ulong bitmapWords) => new($"KCOV_UNIQUE_ENABLE({bitmapWords})",
        d => d.Ioctl(KcovAbi.UniqueEnable, bitmapWords),
        bitmapWords <= int.MaxValue ? d => d.EnableUnique((int)bitmapWords) : null);

    private static Op ResetTrace(ulong arg) => new($"KCOV_RESET_TRACE({arg})",
        d => d.Ioctl(KcovAbi.ResetTrace, arg),
        arg == 0 ? d => d.ResetTrace() : null);

    private static Op Raw(uint cmd, ulong arg) => new($"ioctl(0x{cmd:x}, {arg})", d => d.Ioctl(cmd, arg), null);

    private static Op Elsewhere(Op op) => op with { Name = op.Name + " from another thread", OnOtherThread = true };

    private static readonly Row[] Table =
    [
        // KCOV_INIT_TRACE: must happen first and once; size in words from 2 to INT_MAX/8.
        new(From.Opened, InitTrace(2), 0, "INIT"),
        new(From.Opened, InitTrace(8), 0, "INIT"),
        new(From.Opened, InitTrace(MaxWords), 0, "INIT"),
        new(From.Opened, InitTrace(0), Errno.EINVAL, "DISABLED"),
        new(From.Opened, InitTrace(1), Errno.EINVAL, "DISABLED"),
        new(From.Opened, InitTrace(MaxWords + 1), Errno.EINVAL, "DISABLED"),
        new(From.Opened, InitTrace(ulong.MaxValue), Errno.EINVAL, "DISABLED"),
        new(From.Init, InitTrace(8), Errno.EBUSY, "INIT"),
        new(From.Init, InitTrace(1), Errno.EBUSY, "INIT"), // EBUSY is checked before the size
        new(From.Mapped, InitTrace(8), Errno.EBUSY, "INIT"),
        new(From.TracePc, InitTrace(8), Errno.EBUSY, "TRACE_PC"),
        new(From.DisabledAfterPc, InitTrace(8), Errno.EBUSY, "INIT"),

        // mmap: only in INIT, only size*8 bytes at offset 0; later calls map the same area.
        new(From.Opened, Mmap(Bytes, 0), Errno.EINVAL, "DISABLED"),
        new(From.Init, Mmap(Bytes, 0), 0, "INIT"),
        new(From.Init, Mmap(Bytes - 8, 0), Errno.EINVAL, "INIT"),
        new(From.Init, Mmap(Bytes + 8, 0), Errno.EINVAL, "INIT"),
        new(From.Init, Mmap(0, 0), Errno.EINVAL, "INIT"),
        new(From.Init, Mmap(-Bytes, 0), Errno.EINVAL, "INIT"),
        new(From.Init, Mmap(Bytes, 4096), Errno.EINVAL, "INIT"),
        new(From.Mapped, Mmap(Bytes, 0), 0, "INIT"),
        new(From.TracePc, Mmap(Bytes, 0), Errno.EINVAL, "TRACE_PC"),
        new(From.TraceCmp, Mmap(Bytes, 0), Errno.EINVAL, "TRACE_CMP"),
        new(From.DisabledAfterPc, Mmap(Bytes, 0), 0, "INIT"),

        // KCOV_ENABLE: INIT with an area; neither device nor thread bound; a known mode.
        new(From.Opened, Enable(KcovAbi.TracePc), Errno.EINVAL, "DISABLED"),
        new(From.Init, Enable(KcovAbi.TracePc), Errno.EINVAL, "INIT"),
        new(From.Mapped, Enable(KcovAbi.TracePc), 0, "TRACE_PC"),
        new(From.Mapped, Enable(KcovAbi.TraceCmp), 0, "TRACE_CMP"),
        new(From.Mapped, Enable(2), Errno.EINVAL, "INIT"),
        new(From.Mapped, Enable(ulong.MaxValue), Errno.EINVAL, "INIT"),
        new(From.TracePc, Enable(KcovAbi.TracePc), Errno.EINVAL, "TRACE_PC"), // no longer INIT
        new(From.TracePc, Elsewhere(Enable(KcovAbi.TraceCmp)), Errno.EINVAL, "TRACE_PC"),
        new(From.MappedThreadBusy, Enable(KcovAbi.TracePc), Errno.EBUSY, "INIT"),
        new(From.MappedThreadBusy, Enable(7), Errno.EBUSY, "INIT"), // EBUSY is checked before the mode
        new(From.DisabledAfterPc, Enable(KcovAbi.TraceCmp), 0, "TRACE_CMP"), // re-enable, other mode
        new(From.DisabledAfterCmp, Enable(KcovAbi.TracePc), 0, "TRACE_PC"),
        new(From.DisabledAfterPc, Elsewhere(Enable(KcovAbi.TracePc)), 0, "TRACE_PC"), // another thread may take over

        // KCOV_DISABLE: argument 0, only from the bound thread.
        new(From.TracePc, Disable(0), 0, "INIT"),
        new(From.TraceCmp, Disable(0), 0, "INIT"),
        new(From.TracePc, Disable(1), Errno.EINVAL, "TRACE_PC"),
        new(From.TracePc, Elsewhere(Disable(0)), Errno.EINVAL, "TRACE_PC"),
        new(From.TracePcElsewhere, Disable(0), Errno.EINVAL, "TRACE_PC"),
        new(From.Mapped, Disable(0), Errno.EINVAL, "INIT"),
        new(From.Opened, Disable(0), Errno.EINVAL, "DISABLED"),
        new(From.DisabledAfterPc, Disable(0), Errno.EINVAL, "INIT"), // twice
        new(From.MappedThreadBusy, Disable(0), Errno.EINVAL, "INIT"), // the thread's device is another one

        // KCOV_UNIQUE_ENABLE: KCOV_ENABLE's state checks, then a bitmap of 1 to size-2 words
        // (the trace needs its count word and room for one PC).
        new(From.Mapped, UniqueEnable(2), 0, "UNIQUE_PC"),
        new(From.Mapped, UniqueEnable(1), 0, "UNIQUE_PC"),
        new(From.Mapped, UniqueEnable(Words - 2), 0, "UNIQUE_PC"),
        new(From.Mapped, UniqueEnable(Words - 1), Errno.EINVAL, "INIT"),
        new(From.Mapped, UniqueEnable(0), Errno.EINVAL, "INIT"),
        new(From.Mapped, UniqueEnable(ulong.MaxValue), Errno.EINVAL, "INIT"),
        new(From.Opened, UniqueEnable(2), Errno.EINVAL, "DISABLED"),
        new(From.Init, UniqueEnable(2), Errno.EINVAL, "INIT"),
        new(From.TracePc, UniqueEnable(2), Errno.EINVAL, "TRACE_PC"),
        new(From.UniquePc, UniqueEnable(2), Errno.EINVAL, "UNIQUE_PC"),
        new(From.UniquePc, Enable(KcovAbi.TracePc), Errno.EINVAL, "UNIQUE_PC"),
        new(From.MappedThreadBusy, UniqueEnable(2), Errno.EBUSY, "INIT"),
        new(From.MappedThreadBusy, UniqueEnable(0), Errno.EBUSY, "INIT"), // EBUSY is checked before the size
        new(From.UniquePc, Mmap(Bytes, 0), Errno.EINVAL, "UNIQUE_PC"),
        new(From.UniquePc, InitTrace(8), Errno.EBUSY, "UNIQUE_PC"),
        new(From.UniquePc, Disable(0), 0, "INIT"),
        new(From.UniquePc, Elsewhere(Disable(0)), Errno.EINVAL, "UNIQUE_PC"),
        new(From.DisabledAfterUnique, Enable(KcovAbi.TracePc), 0, "TRACE_PC"),
        new(From.DisabledAfterUnique, UniqueEnable(3), 0, "UNIQUE_PC"),

        // KCOV_RESET_TRACE: argument 0, from the bound thread of an enabled device (any mode).
        new(From.UniquePc, ResetTrace(0), 0, "UNIQUE_PC"),
        new(From.TracePc, ResetTrace(0), 0, "TRACE_PC"),
        new(From.TraceCmp, ResetTrace(0), 0, "TRACE_CMP"),
        new(From.UniquePc, ResetTrace(1), Errno.EINVAL, "UNIQUE_PC"),
        new(From.UniquePc, Elsewhere(ResetTrace(0)), Errno.EINVAL, "UNIQUE_PC"),
        new(From.TracePcElsewhere, ResetTrace(0), Errno.EINVAL, "TRACE_PC"),
        new(From.Mapped, ResetTrace(0), Errno.EINVAL, "INIT"),
        new(From.DisabledAfterUnique, ResetTrace(0), Errno.EINVAL, "INIT"),
        new(From.MappedThreadBusy, ResetTrace(0), Errno.EINVAL, "INIT"), // the thread's device is another one
        new(From.Opened, ResetTrace(0), Errno.EINVAL, "DISABLED"),

        // Unknown commands, including kcov's numbers with another size or direction.
        new(From.Opened, Raw(0x1234, 0), Errno.ENOTTY, "DISABLED"),
        new(From.TracePc, Raw(0x6367, 0), Errno.ENOTTY, "TRACE_PC"), // _IO('c', 103)
        new(From.Opened, Raw(0x80046301, 8), Errno.ENOTTY, "DISABLED"), // _IOR('c', 1, int)
        new(From.Mapped, Raw(0x40086364, 0), Errno.ENOTTY, "INIT"), // _IOW('c', 100, u64)
        // KCOV_REMOTE_ENABLE takes a struct: the value form has no memory to read it from.
        new(From.Mapped, Raw(KcovAbi.RemoteEnable, 0), Errno.EFAULT, "INIT"),

        // A closed descriptor answers EBADF to everything.
        new(From.Closed, InitTrace(8), Errno.EBADF, "DISABLED"),
        new(From.Closed, Mmap(Bytes, 0), Errno.EBADF, "DISABLED"),
        new(From.Closed, Enable(KcovAbi.TracePc), Errno.EBADF, "DISABLED"),
        new(From.Closed, Disable(0), Errno.EBADF, "DISABLED"),
        new(From.Closed, UniqueEnable(2), Errno.EBADF, "DISABLED"),
        new(From.Closed, ResetTrace(0), Errno.EBADF, "DISABLED"),
    ];

    public static TheoryData<int> AbiRows() => new(Enumerable.Range(0, Table.Length));

    public static TheoryData<int> ApiRows() =>
        new(Enumerable.Range(0, Table.Length).Where(i => Table[i].Op.Api is not null));

    [Theory]
    [MemberData(nameof(AbiRows))]
    public void IoctlFaceFollowsKcov(int index)
    {
        var row = Table[index];
        RunRow(row, (device, other) => Invoke(row.Op, other, () => row.Op.Abi(device)), useApi: false);
    }

    [Theory]
    [MemberData(nameof(ApiRows))]
    public void ExceptionFaceGivesTheSameErrno(int index)
    {
        var row = Table[index];
        RunRow(row, (device, other) => Invoke(row.Op, other, () =>
        {
            try
            {
                row.Op.Api!(device);
                return 0;
            }
            catch (KcovException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                Assert.Contains(Errno.Name(e.Errno), e.Message);
                return -e.Errno;
            }
        }), useApi: true);
    }

    private static int Invoke(Op op, ParkedThread other, Func<int> call) =>
        op.OnOtherThread ? other.Run(call) : call();

    private static void RunRow(Row row, Func<KcovDevice, ParkedThread, int> act, bool useApi)
    {
        // Each row runs on a thread of its own: a binding can never leak into another test.
        Threads.RunOnFreshThread(() =>
        {
            using var other = new ParkedThread();
            using var busy = KcovDevice.Open();
            var device = KcovDevice.Open();
            try
            {
                Prepare(device, row.From, other, busy);
                int result = act(device, other);
                string face = useApi ? "exception face" : "ioctl face";
                Assert.True(-row.Errno == result,
                    $"{row.From} + {row.Op.Name} via {face}: expected {Name(-row.Errno)}, got {Name(result)}");
                Assert.Equal(row.StateAfter, device.State);
            }
            finally
            {
                Unbind(device);
                Unbind(busy);
                other.Run(() => Unbind(device));
                device.Dispose();
            }
        });
    }

    private static string Name(int result) => result == 0 ? "0" : "-" + Errno.Name(result);

    private static void Prepare(KcovDevice device, From from, ParkedThread other, KcovDevice busy)
    {
        switch (from)
        {
            case From.Opened:
                return;
            case From.Closed:
                device.Dispose();
                return;
        }
        device.InitTrace(Words);
        if (from == From.Init)
            return;
        device.Map().Dispose();
        switch (from)
        {
            case From.TracePc:
                device.Enable(KcovMode.TracePc);
                break;
            case From.TraceCmp:
                device.Enable(KcovMode.TraceCmp);
                break;
            case From.DisabledAfterPc:
                device.Enable(KcovMode.TracePc);
                device.Disable();
                break;
            case From.DisabledAfterCmp:
                device.Enable(KcovMode.TraceCmp);
                device.Disable();
                break;
            case From.UniquePc:
                device.EnableUnique(2);
                break;
            case From.DisabledAfterUnique:
                device.EnableUnique(2);
                device.Disable();
                break;
            case From.TracePcElsewhere:
                other.Run(() => device.Enable(KcovMode.TracePc));
                break;
            case From.MappedThreadBusy:
                busy.InitTrace(Words);
                busy.Map().Dispose();
                busy.Enable(KcovMode.TracePc);
                break;
        }
    }

    /// <summary>Disables the device if the calling thread is bound to it.</summary>
    private static void Unbind(KcovDevice device)
    {
        if (KcovTask.Current?.Kcov == device)
            Assert.Equal(0, device.Ioctl(KcovAbi.Disable, 0));
    }

    [Fact]
    public void TableCoversEveryCommandAndState()
    {
        // A guard against the table shrinking by accident: every start state and every
        // errno kcov's plain ioctls and mmap can answer appears in it.
        Assert.Equal(Enum.GetValues<From>().Length, Table.Select(r => r.From).Distinct().Count());
        int[] errnos = [0, Errno.EINVAL, Errno.EBUSY, Errno.ENOTTY, Errno.EFAULT, Errno.EBADF];
        Assert.All(errnos, e => Assert.Contains(Table, r => r.Errno == e));
    }
}
