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

    /// <summary>
    /// Kcov.NET's extension, a type bit kcov never sets: a data record (string and byte-span comparisons,
    /// from the call-site hooks). Its first 4 words are type, length of operand 1 in bytes, length of
    /// operand 2 in bytes, pc; the operands' bytes follow in <see cref="CmpDataExtraSlots"/> more
    /// 4-word slots, and the count in word 0 grows by 1 + that many. See docs/trace-cmp-data.md.
    /// </summary>
    public const ulong CmpData = 1 << 3;

    /// <summary>Type bit of a data record: the operands are UTF-16 code units (strings, char spans), not bytes.</summary>
    public const ulong CmpDataUtf16 = 1 << 4;

    /// <summary>The kind of comparison a data record stands for (bits 8-15 of its type): see <see cref="CmpDataKind"/>.</summary>
    public static ulong CmpDataKind(ulong type) => (type >> 8) & 0xff;

    /// <summary>Data record kinds: equality (string ==, Equals, SequenceEqual).</summary>
    public const ulong CmpKindEquals = 1;
    /// <summary>Data record kinds: ordering (string.Compare, CompareOrdinal).</summary>
    public const ulong CmpKindCompare = 2;
    /// <summary>Data record kinds: operand 2 is looked for at the start of operand 1 (StartsWith).</summary>
    public const ulong CmpKindPrefix = 3;
    /// <summary>Data record kinds: operand 2 is looked for at the end of operand 1 (EndsWith).</summary>
    public const ulong CmpKindSuffix = 4;
    /// <summary>Data record kinds: operand 2 is looked for anywhere in operand 1 (Contains, IndexOf).</summary>
    public const ulong CmpKindContains = 5;
    /// <summary>Data record kinds: a key looked up (operand 1) and a key the collection holds or an enum name (operand 2).</summary>
    public const ulong CmpKindKey = 6;
    /// <summary>Data record kinds: text that did not parse as a number (operand 1) and its longest prefix that does (operand 2).</summary>
    public const ulong CmpKindNumber = 7;

    /// <summary>How many 4-word slots of payload follow a data record's first slot (bits 32-47 of its type).</summary>
    public static int CmpDataExtraSlots(ulong type) => (int)((type >> 32) & 0xffff);

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
