using System.Buffers.Binary;

namespace Kcov.Tests;

/// <summary>
/// KCOV_REMOTE_ENABLE: kcov_ioctl's copy of struct kcov_remote_arg and the REMOTE_ENABLE
/// case of kcov_ioctl_locked, every errno, and the unwinding of a failed registration.
/// </summary>
public class RemoteEnableTests
{
    private static int RemoteEnable(KcovDevice device, KcovRemoteArg arg) =>
        device.Ioctl(KcovAbi.RemoteEnable, arg.ToBytes());

    private static KcovRemoteArg Arg(ulong[] handles, ulong common = 0, uint mode = (uint)KcovAbi.TracePc, uint areaSize = 64) =>
        new(mode, areaSize, common, handles);

    /// <summary>Runs <paramref name="body"/> on a fresh thread with a device in INIT with an area.</summary>
    private static void WithMappedDevice(Action<KcovDevice> body) => Threads.RunOnFreshThread(() =>
    {
        using var device = KcovDevice.Open();
        device.InitTrace(64);
        device.Map().Dispose();
        try
        {
            body(device);
        }
        finally
        {
            if (KcovTask.Current?.Kcov == device)
                device.Disable();
        }
    });

    [Fact]
    public void StructLayoutIsLinuxX8664s()
    {
        var bytes = new KcovRemoteArg(1, 0x200, 0x42, [0x0100_0000_0000_0001, 7]).ToBytes();
        Assert.Equal(24 + 16, bytes.Length);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal(0x200u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12))); // padding
        Assert.Equal(0x42UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(0x0100_0000_0000_0001UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(24)));
        Assert.Equal(7UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(32)));
    }

    [Fact]
    public void SuccessBindsTheThreadRegistersHandlesAndSetsTheCommonHandle() => WithMappedDevice(device =>
    {
        ulong usb = Handles.Usb(), common = Handles.Common();
        Assert.Equal(0UL, Remote.CommonHandle);

        Assert.Equal(0, RemoteEnable(device, Arg([usb], common, (uint)KcovAbi.TraceCmp)));

        Assert.Equal("TRACE_CMP", device.State);
        Assert.Same(device, RemoteMap.Holder(usb));
        Assert.Same(device, RemoteMap.Holder(common));
        Assert.Equal(common, Remote.CommonHandle);
        Assert.Equal(2, device.RefCount);
        // The enabling thread is wired to the device: it cannot enable another one.
        using var other = KcovDevice.Open();
        other.InitTrace(8);
        other.Map().Dispose();
        Assert.Equal(-Errno.EBUSY, other.Ioctl(KcovAbi.Enable, KcovAbi.TracePc));
        // ... and KCOV_DISABLE from it unwires everything.
        Assert.Equal(0, device.Ioctl(KcovAbi.Disable, 0));
        Assert.Null(RemoteMap.Holder(usb));
        Assert.Null(RemoteMap.Holder(common));
        Assert.Equal(0UL, Remote.CommonHandle);
        Assert.Equal("INIT", device.State);
        Assert.Equal(1, device.RefCount);
    });

    [Fact]
    public void NoCommonHandleLeavesTheFlowsHandleAlone() => WithMappedDevice(device =>
    {
        Assert.Equal(0, RemoteEnable(device, Arg([Handles.Usb()], common: 0)));
        Assert.Equal(0UL, Remote.CommonHandle);
    });

    [Fact]
    public void ExactlyTheMaximumNumberOfHandlesIsAllowed() => WithMappedDevice(device =>
    {
        var handles = Enumerable.Range(0, KcovAbi.RemoteMaxHandles).Select(_ => Handles.Usb()).ToArray();
        Assert.Equal(0, RemoteEnable(device, Arg(handles)));
        Assert.All(handles, h => Assert.Same(device, RemoteMap.Holder(h)));
    });

    public static TheoryData<string> ArgumentErrors() => new(s_argumentErrors.Keys);

    // Unwound: the failure came after the device switched to remote mode, so kcov_disable ran
    // (the sequence advances); earlier failures leave the device untouched.
    private static readonly Dictionary<string, (Func<KcovRemoteArg> Arg, int Errno, bool Unwound)> s_argumentErrors = new()
    {
        ["unknown trace mode"] = (() => Arg([Handles.Usb()], mode: 2), Errno.EINVAL, false),
        ["area_size over INT_MAX/8"] = (() => Arg([Handles.Usb()], areaSize: int.MaxValue / 8 + 1), Errno.EINVAL, false),
        ["common-subsystem handle as a global handle"] = (() => Arg([Handles.Common()]), Errno.EINVAL, true),
        ["zero as a global handle"] = (() => Arg([0]), Errno.EINVAL, true),
        ["global handle with reserved bytes set"] = (() => Arg([KcovAbi.SubsystemUsb | 1UL << 32]), Errno.EINVAL, true),
        ["global handle of an unknown subsystem"] = (() => Arg([0x7fUL << 56 | 1]), Errno.EINVAL, true),
        ["usb handle as the common handle"] = (() => Arg([], common: Handles.Usb()), Errno.EINVAL, true),
        ["common handle with reserved bytes set"] = (() => Arg([], common: 1UL << 40 | 1), Errno.EINVAL, true),
        ["a handle listed twice"] = (() => { ulong h = Handles.Usb(); return Arg([h, h]); }, Errno.EEXIST, true),
    };

    [Theory]
    [MemberData(nameof(ArgumentErrors))]
    public void BadArgumentsFailAndLeaveTheDeviceAsItWas(string name) => WithMappedDevice(device =>
    {
        var (makeArg, errno, unwound) = s_argumentErrors[name];
        var arg = makeArg();
        int sequence = device.Sequence;

        Assert.Equal(-errno, RemoteEnable(device, arg));

        Assert.Equal("INIT", device.State);
        Assert.Equal(1, device.RefCount);
        Assert.Equal(unwound ? sequence + 1 : sequence, device.Sequence);
        Assert.All(arg.Handles.Append(arg.CommonHandle).Where(h => h != 0), h => Assert.Null(RemoteMap.Holder(h)));
        Assert.Equal(0UL, Remote.CommonHandle);
        // The thread is free again: a plain enable works.
        Assert.Equal(0, device.Ioctl(KcovAbi.Enable, KcovAbi.TracePc));
    });

    [Fact]
    public void FailureUnwindsEveryHandleRegisteredSoFar() => WithMappedDevice(device =>
    {
        ulong a = Handles.Usb(), b = Handles.Usb(), taken = Handles.Usb(), common = Handles.Common();
        using var holder = new RemoteDevice(8, KcovMode.TracePc, 8, [taken]);
        int sequence = device.Sequence;

        Assert.Equal(-Errno.EEXIST, RemoteEnable(device, Arg([a, b, taken], common)));

        Assert.Null(RemoteMap.Holder(a));
        Assert.Null(RemoteMap.Holder(b));
        Assert.Same(holder.Device, RemoteMap.Holder(taken));
        Assert.Null(RemoteMap.Holder(common));
        Assert.Equal(0UL, Remote.CommonHandle);
        Assert.Equal(sequence + 1, device.Sequence); // kcov_disable -> kcov_remote_reset -> kcov_reset
        Assert.Equal("INIT", device.State);
        // The same handles, minus the taken one, can be registered at once.
        Assert.Equal(0, RemoteEnable(device, Arg([a, b], common)));
        Assert.Same(device, RemoteMap.Holder(a));
    });

    [Fact]
    public void ACommonHandleHeldByAnotherDeviceIsEexistAndUnwindsTheGlobalOnes() => WithMappedDevice(device =>
    {
        ulong common = Handles.Common(), usb = Handles.Usb();
        using var holder = new RemoteDevice(8, KcovMode.TracePc, 8, [], common);

        Assert.Equal(-Errno.EEXIST, RemoteEnable(device, Arg([usb], common)));
        Assert.Null(RemoteMap.Holder(usb));
        Assert.Same(holder.Device, RemoteMap.Holder(common));
    });

    [Fact]
    public void TooManyHandlesIsEinvalBeforeAnythingElse() => WithMappedDevice(device =>
    {
        var handles = Enumerable.Range(0, KcovAbi.RemoteMaxHandles + 1).Select(_ => Handles.Usb()).ToArray();
        Assert.Equal(-Errno.EINVAL, RemoteEnable(device, Arg(handles)));
        // Checked in kcov_ioctl, before the lock and before the state: even a fresh device says EINVAL.
        using var fresh = KcovDevice.Open();
        Assert.Equal(-Errno.EINVAL, RemoteEnable(fresh, Arg(handles)));
    });

    [Theory]
    [InlineData(0, 0)]
    [InlineData(11, 0)]   // num_handles itself is not all there
    [InlineData(12, 0)]   // the header is not all there
    [InlineData(23, 0)]
    [InlineData(24, 1)]   // one handle promised, none there
    [InlineData(31, 1)]
    [InlineData(39, 3)]
    public void ABufferShorterThanItPromisesIsEfault(int length, uint promised) => WithMappedDevice(device =>
    {
        var bytes = new byte[Math.Max(length, 12)];
        if (bytes.Length >= 12)
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), promised);
        Assert.Equal(-Errno.EFAULT, device.Ioctl(KcovAbi.RemoteEnable, bytes.AsSpan(0, length)));
        Assert.Equal("INIT", device.State);
    });

    [Fact]
    public void StateErrorsFollowKcov() => Threads.RunOnFreshThread(() =>
    {
        var arg = Arg([Handles.Usb()]);
        using var fresh = KcovDevice.Open();
        Assert.Equal(-Errno.EINVAL, RemoteEnable(fresh, arg)); // not INIT
        fresh.InitTrace(8);
        Assert.Equal(-Errno.EINVAL, RemoteEnable(fresh, arg)); // INIT but no area

        using var enabled = KcovDevice.OpenEnabled(8, KcovMode.TracePc, out var area);
        area.Dispose();
        Assert.Equal(-Errno.EINVAL, RemoteEnable(enabled, arg)); // already enabled: not INIT

        fresh.Map().Dispose();
        Assert.Equal(-Errno.EBUSY, RemoteEnable(fresh, arg)); // this thread is bound to `enabled`
        Assert.Equal(-Errno.EBUSY, RemoteEnable(fresh, Arg([Handles.Usb()], mode: 9))); // EBUSY before the mode
        Assert.Null(RemoteMap.Holder(arg.Handles[0]));
        enabled.Disable();

        Assert.Equal(0, RemoteEnable(fresh, arg));
        Assert.Equal(-Errno.EINVAL, RemoteEnable(fresh, Arg([Handles.Usb()]))); // twice: not INIT
        fresh.Dispose();
        Assert.Equal(-Errno.EBADF, RemoteEnable(fresh, Arg([Handles.Usb()])));
        // Still bound after close, like a task whose fd was closed: only its end unbinds it.
        Assert.Same(fresh, KcovTask.Current!.Kcov);
        Assert.Equal(-Errno.EBADF, fresh.Ioctl(KcovAbi.Disable, 0));
    });

    [Fact]
    public void TheStructOverloadRefusesValueCommands() => WithMappedDevice(device =>
    {
        Assert.Equal(-Errno.EINVAL, device.Ioctl(KcovAbi.Enable, new byte[8]));
        Assert.Equal(-Errno.EINVAL, device.Ioctl(KcovAbi.InitTrace, new byte[8]));
        Assert.Equal(-Errno.EINVAL, device.Ioctl(KcovAbi.Disable, new byte[8]));
        Assert.Equal(-Errno.ENOTTY, device.Ioctl(0x6399u, new byte[8]));
    });

    [Fact]
    public void ExceptionFaceGivesTheSameErrnos() => WithMappedDevice(device =>
    {
        ulong taken = Handles.Usb();
        using var holder = new RemoteDevice(8, KcovMode.TracePc, 8, [taken]);
        var exists = Assert.Throws<KcovHandleInUseException>(() => device.RemoteEnable(KcovMode.TracePc, 8, [taken]));
        Assert.Equal(Errno.EEXIST, exists.Errno);
        Assert.Contains($"0x{taken:x16}", exists.Message);
        var invalid = Assert.Throws<KcovInvalidArgumentException>(() => device.RemoteEnable(KcovMode.TracePc, 8, [], commonHandle: Handles.Usb()));
        Assert.Contains("common handle", invalid.Message);
        device.RemoteEnable(KcovMode.TracePc, 8, [Handles.Usb()]);
        Assert.Throws<KcovInvalidArgumentException>(() => device.RemoteEnable(KcovMode.TracePc, 8, [Handles.Usb()]));
    });

    [Fact]
    public void RegisteredSubsystemsHaveValidHandles() => WithMappedDevice(device =>
    {
        ulong subsystem = Remote.RegisterSubsystem(0x5a, "test-bus");
        Assert.Equal(subsystem, Remote.RegisterSubsystem(0x5a, "test-bus")); // idempotent
        Assert.Throws<InvalidOperationException>(() => Remote.RegisterSubsystem(0x5a, "other-bus"));
        Assert.Throws<InvalidOperationException>(() => Remote.RegisterSubsystem(1, "not-usb"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Remote.RegisterSubsystem(0, "common"));

        ulong handle = KcovAbi.RemoteHandle(subsystem, Handles.NextInstance());
        Assert.Equal(0, RemoteEnable(device, Arg([handle])));
        Assert.Same(device, RemoteMap.Holder(handle));
    });

    [Fact]
    public void TheEnablingThreadsEndReleasesTheHandles()
    {
        ulong usb = Handles.Usb();
        using var device = KcovDevice.Open();
        device.InitTrace(16);
        device.Map().Dispose();
        Threads.RunOnFreshThread(() => device.RemoteEnable(KcovMode.TracePc, 16, [usb]));

        // Any device call reaps the dead thread (kcov_task_exit): 0 is not a command (ENOTTY).
        Assert.Equal(-Errno.ENOTTY, device.Ioctl(0, 0));
        Assert.Equal("INIT", device.State);
        Assert.Null(RemoteMap.Holder(usb));
        Assert.Equal(1, device.RefCount);
    }
}
