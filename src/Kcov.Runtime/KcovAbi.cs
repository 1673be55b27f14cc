namespace Kcov;

/// <summary>
/// The uapi of kcov (include/uapi/linux/kcov.h) with kcov's values. Tools written
/// for Linux kcov read our areas and speak our ioctls with these numbers.
/// </summary>
public static class KcovAbi
{
    // Linux asm-generic ioctl encoding, as on x86-64: dir(2) | size(14) | type(8) | nr(8).
    private const uint IocNone = 0, IocWrite = 1, IocRead = 2;
    private const int IocNrShift = 0, IocTypeShift = 8, IocSizeShift = 16, IocDirShift = 30;
    private const uint KcovIoctlType = 'c';

    /// <summary>sizeof(struct kcov_remote_arg) on x86-64: three u32, 4 bytes of padding, u64 common_handle; handles[] is flexible.</summary>
    public const int RemoteArgHeaderSize = 24;

    /// <summary><c>_IOR('c', 1, unsigned long)</c>: set the area size, in 64-bit words.</summary>
    public const uint InitTrace = IocRead << IocDirShift | sizeof(ulong) << IocSizeShift | KcovIoctlType << IocTypeShift | 1 << IocNrShift;

    /// <summary><c>_IO('c', 100)</c>: bind the device to the calling thread.</summary>
    public const uint Enable = IocNone << IocDirShift | KcovIoctlType << IocTypeShift | 100 << IocNrShift;

    /// <summary><c>_IO('c', 101)</c>: unbind the calling thread.</summary>
    public const uint Disable = IocNone << IocDirShift | KcovIoctlType << IocTypeShift | 101 << IocNrShift;

    /// <summary><c>_IOW('c', 102, struct kcov_remote_arg)</c>: collect from remote sections.</summary>
    public const uint RemoteEnable = IocWrite << IocDirShift | RemoteArgHeaderSize << IocSizeShift | KcovIoctlType << IocTypeShift | 102 << IocNrShift;

    /// <summary>Trace mode argument of <see cref="Enable"/>: record the PC of each basic block.</summary>
    public const ulong TracePc = 0;

    /// <summary>Trace mode argument of <see cref="Enable"/>: record comparison operands.</summary>
    public const ulong TraceCmp = 1;

    /// <summary>Type bit of a comparison record: one operand is a compile-time constant.</summary>
    public const ulong CmpConst = 1;

    /// <summary>Type bits of a comparison record: operand size is 1 &lt;&lt; n bytes.</summary>
    public static ulong CmpSize(int n) => (ulong)n << 1;

    /// <summary>Mask of the size bits in a comparison record's type.</summary>
    public const ulong CmpMask = 3 << 1;

    /// <summary>64-bit words per comparison record: type, arg1, arg2, pc.</summary>
    public const int WordsPerCmp = 4;

    public const ulong SubsystemCommon = 0x00UL << 56;
    public const ulong SubsystemUsb = 0x01UL << 56;
    public const ulong SubsystemMask = 0xffUL << 56;
    public const ulong InstanceMask = 0xffffffffUL;

    /// <summary>The most handles one KCOV_REMOTE_ENABLE may register.</summary>
    public const int RemoteMaxHandles = 0x100;

    /// <summary>kcov_remote_handle(): 0 when either part has bits outside its field.</summary>
    public static ulong RemoteHandle(ulong subsys, ulong inst)
    {
        if ((subsys & ~SubsystemMask) != 0 || (inst & ~InstanceMask) != 0)
            return 0;
        return subsys | inst;
    }
}
