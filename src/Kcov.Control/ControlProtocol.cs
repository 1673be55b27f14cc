using System.Buffers.Binary;
using System.Text;

namespace Kcov.Control;

/// <summary>
/// The wire format of the control endpoint (docs/control-protocol.md), shared by the server and
/// the clients. Little-endian throughout, as the x86-64 structs it carries. Every message is a
/// frame: a u32 length, then that many bytes of body.
/// <list type="bullet">
/// <item>request body: u32 op, then the op's fields;</item>
/// <item><see cref="OpIoctl"/>: u32 cmd (kcov's ioctl number, <see cref="KcovAbi"/>), u32 reserved (0),
/// u64 arg, then the bytes of the struct the argument points to, if the command takes one
/// (<c>struct kcov_remote_arg</c> byte for byte); with no struct the arg is passed by value;</item>
/// <item><see cref="OpMmap"/>: u64 length, u64 offset; the reply's text is the area's shared-memory name;</item>
/// <item><see cref="OpWait"/> (beyond kcov): u32 timeout in ms, u32 reserved (0); waits until no work
/// tracked under the descriptor's common handle is in flight (<see cref="RemoteWork"/>);</item>
/// <item>reply body: i32 result (0, a count, or a negative errno), then text: the reason of an error,
/// the area name of a mapping, or the fault reports of a wait (each a u32 length and UTF-8).</item>
/// </list>
/// </summary>
public static class ControlProtocol
{
    /// <summary>
    /// The HTTP request header that carries a client's common handle to a service
    /// (<c>kcov-handle: 0x0000000000000042</c>): Kcov.AspNetCore's middleware reads it, the fuzzer sends it.
    /// </summary>
    public const string HandleHeader = "kcov-handle";

    /// <summary>ioctl(2) on the descriptor.</summary>
    public const uint OpIoctl = 1;

    /// <summary>mmap(2) of the area: the reply names the shared memory to map.</summary>
    public const uint OpMmap = 2;

    /// <summary>Beyond kcov: wait until the work of this descriptor's common handle is done.</summary>
    public const uint OpWait = 3;

    /// <summary>Bytes of an ioctl body before the struct: op, cmd, reserved, arg.</summary>
    public const int IoctlBodySize = 4 + 4 + 4 + 8;

    /// <summary>Bytes of an mmap body: op, length, offset.</summary>
    public const int MmapBodySize = 4 + 8 + 8;

    /// <summary>Bytes of a wait body: op, timeout, reserved.</summary>
    public const int WaitBodySize = 4 + 4 + 4;

    /// <summary>
    /// The largest request body the server reads. A kcov_remote_arg with its 256 handles is 2,072
    /// bytes; the margin is for structs of commands added later. A longer frame closes the connection.
    /// </summary>
    public const int MaxRequestBody = 64 * 1024;

    /// <summary>The largest reply body a client accepts (a wait's fault reports are the big ones).</summary>
    public const int MaxReplyBody = 1 << 20;

    /// <summary>Linux's ETIMEDOUT: the wait ended with work still in flight.</summary>
    public const int ETIMEDOUT = 110;

    /// <summary>The frame of an ioctl whose argument is a value.</summary>
    public static byte[] IoctlRequest(uint cmd, ulong arg) => IoctlRequest(cmd, arg, []);

    /// <summary>The frame of an ioctl whose argument points to a struct: <paramref name="data"/> is the struct.</summary>
    public static byte[] IoctlRequest(uint cmd, ReadOnlySpan<byte> data) => IoctlRequest(cmd, 0, data);

    private static byte[] IoctlRequest(uint cmd, ulong arg, ReadOnlySpan<byte> data)
    {
        var frame = NewFrame(IoctlBodySize + data.Length, OpIoctl, out var body);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], cmd);
        BinaryPrimitives.WriteUInt64LittleEndian(body[12..], arg);
        data.CopyTo(body[IoctlBodySize..]);
        return frame;
    }

    /// <summary>The frame of an mmap of <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    public static byte[] MmapRequest(long length, long offset)
    {
        var frame = NewFrame(MmapBodySize, OpMmap, out var body);
        BinaryPrimitives.WriteInt64LittleEndian(body[4..], length);
        BinaryPrimitives.WriteInt64LittleEndian(body[12..], offset);
        return frame;
    }

    /// <summary>The frame of a wait of at most <paramref name="timeoutMs"/> milliseconds.</summary>
    public static byte[] WaitRequest(uint timeoutMs)
    {
        var frame = NewFrame(WaitBodySize, OpWait, out var body);
        BinaryPrimitives.WriteUInt32LittleEndian(body[4..], timeoutMs);
        return frame;
    }

    /// <summary>A reply frame: the result, then the text (UTF-8).</summary>
    public static byte[] Reply(int result, string text) => Reply(result, Encoding.UTF8.GetBytes(text));

    /// <summary>A reply frame: the result, then raw bytes.</summary>
    public static byte[] Reply(int result, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[4 + 4 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(4 + payload.Length));
        BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(4), result);
        payload.CopyTo(frame.AsSpan(8));
        return frame;
    }

    /// <summary>The fault reports of a wait's reply: each a u32 length and UTF-8 text.</summary>
    public static byte[] EncodeReports(IReadOnlyList<string> reports)
    {
        using var buffer = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        foreach (var report in reports)
        {
            byte[] text = Encoding.UTF8.GetBytes(report);
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)text.Length);
            buffer.Write(length);
            buffer.Write(text);
        }
        return buffer.ToArray();
    }

    /// <summary>Reads <paramref name="count"/> reports back; <see cref="InvalidDataException"/> if they do not fit the payload.</summary>
    public static List<string> DecodeReports(ReadOnlySpan<byte> payload, int count)
    {
        var reports = new List<string>(Math.Min(count, 64));
        for (int i = 0; i < count; i++)
        {
            if (payload.Length < 4)
                throw new InvalidDataException($"the wait reply promises {count} fault reports but holds {i}");
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(payload);
            if (length > payload.Length - 4)
                throw new InvalidDataException($"fault report {i} claims {length} bytes but {payload.Length - 4} remain");
            reports.Add(Encoding.UTF8.GetString(payload.Slice(4, (int)length)));
            payload = payload[(4 + (int)length)..];
        }
        return reports;
    }

    /// <summary>
    /// Reads one frame's body. Returns null at a clean end of stream (before a frame starts).
    /// </summary>
    /// <exception cref="EndOfStreamException">The stream ended inside a frame (a truncated message).</exception>
    /// <exception cref="InvalidDataException">The frame is longer than <paramref name="maxBody"/> (an oversized message).</exception>
    public static byte[]? ReadFrame(Stream stream, int maxBody)
    {
        Span<byte> header = stackalloc byte[4];
        int got = stream.ReadAtLeast(header, 4, throwOnEndOfStream: false);
        if (got == 0)
            return null;
        if (got < 4)
            throw new EndOfStreamException($"the stream ended after {got} bytes of a frame's length");
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > maxBody)
            throw new InvalidDataException($"a frame of {length} bytes is longer than the {maxBody} allowed");
        var body = new byte[length];
        stream.ReadExactly(body);
        return body;
    }

    private static byte[] NewFrame(int bodySize, uint op, out Span<byte> body)
    {
        var frame = new byte[4 + bodySize];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)bodySize);
        body = frame.AsSpan(4);
        BinaryPrimitives.WriteUInt32LittleEndian(body, op);
        return frame;
    }
}
