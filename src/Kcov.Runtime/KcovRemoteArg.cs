using System.Buffers.Binary;

namespace Kcov;

/// <summary>
/// struct kcov_remote_arg as laid out on Linux x86-64: u32 trace_mode, u32 area_size (in
/// words), u32 num_handles, 4 bytes of padding, u64 common_handle, u64 handles[num_handles];
/// little-endian.
/// </summary>
public sealed record KcovRemoteArg(uint TraceMode, uint AreaSize, ulong CommonHandle, ulong[] Handles)
{
    internal const int NumHandlesOffset = 8;
    internal const int CommonHandleOffset = 16;

    /// <summary>The struct's bytes, as a C caller would pass them to ioctl(KCOV_REMOTE_ENABLE).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[KcovAbi.RemoteArgHeaderSize + Handles.Length * sizeof(ulong)];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, TraceMode);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], AreaSize);
        BinaryPrimitives.WriteUInt32LittleEndian(span[NumHandlesOffset..], (uint)Handles.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(span[CommonHandleOffset..], CommonHandle);
        for (int i = 0; i < Handles.Length; i++)
            BinaryPrimitives.WriteUInt64LittleEndian(span[(KcovAbi.RemoteArgHeaderSize + i * sizeof(ulong))..], Handles[i]);
        return bytes;
    }

    /// <summary>
    /// Reads the struct the way kcov_ioctl copies it from user memory: num_handles first
    /// (-EFAULT if the buffer cannot hold it), at most <see cref="KcovAbi.RemoteMaxHandles"/>
    /// (-EINVAL), then the whole struct (-EFAULT if the buffer is shorter than it promises).
    /// </summary>
    internal static int TryRead(ReadOnlySpan<byte> bytes, out KcovRemoteArg? arg, out string? why)
    {
        arg = null;
        why = null;
        if (bytes.Length < NumHandlesOffset + sizeof(uint))
        {
            why = $"the buffer is {bytes.Length} bytes, too short to hold struct kcov_remote_arg's num_handles";
            return -Errno.EFAULT;
        }
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(bytes[NumHandlesOffset..]);
        if (count > KcovAbi.RemoteMaxHandles)
        {
            why = $"num_handles is {count}; at most {KcovAbi.RemoteMaxHandles} handles can be registered at once";
            return -Errno.EINVAL;
        }
        long size = KcovAbi.RemoteArgHeaderSize + (long)count * sizeof(ulong);
        if (bytes.Length < size)
        {
            why = $"num_handles promises {count} handles ({size} bytes) but the buffer holds {bytes.Length} bytes";
            return -Errno.EFAULT;
        }
        var handles = new ulong[count];
        for (int i = 0; i < handles.Length; i++)
            handles[i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[(KcovAbi.RemoteArgHeaderSize + i * sizeof(ulong))..]);
        arg = new KcovRemoteArg(
            BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[CommonHandleOffset..]),
            handles);
        return 0;
    }
}
