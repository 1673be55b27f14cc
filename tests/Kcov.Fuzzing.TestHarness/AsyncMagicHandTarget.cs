using System.Buffers.Binary;
using Kcov;

namespace Kcov.Fuzzing.TestHarness;

/// <summary>
/// An async target whose blocks run on thread-pool threads (after Task.Yield, in a child task):
/// only a remote section under the common handle sees them. A 4-byte magic number, as in
/// <see cref="MagicHandTarget"/>, compared after the first await. Instrumented by hand.
/// </summary>
public static class AsyncMagicHandTarget
{
    public static async Task Run(ReadOnlyMemory<byte> data)
    {
        Trace.Pc(0x400);
        await Task.Yield();
        Trace.Pc(0x401);
        if (data.Length < 4)
        {
            Trace.Pc(0x405);
            return;
        }
        Trace.Pc(0x406);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(data.Span);
        Trace.ConstCmp4(0xCAFEF00D, magic, 0x402);
        if (magic != 0xCAFEF00D)
        {
            Trace.Pc(0x407);
            return;
        }
        await Task.Run(() => Trace.Pc(0x403));
        Trace.Pc(0x404);
        throw new InvalidDataException("async magic number reached");
    }
}
