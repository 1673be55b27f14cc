using System.Buffers.Binary;
using Kcov;

namespace Kcov.Fuzzing.TestHarness;

/// <summary>
/// A 4-byte magic number, instrumented by hand the way the IL rewriter instruments it: a PC per
/// block and a ConstCmp4 before the comparison. Only comparison hints find it within small budgets.
/// </summary>
public static class MagicHandTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        Trace.Pc(0x100);
        if (data.Length < 4)
        {
            Trace.Pc(0x101);
            return;
        }
        Trace.Pc(0x102);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(data);
        Trace.ConstCmp4(0xDEADBEEF, magic, 0x103);
        if (magic == 0xDEADBEEF)
        {
            Trace.Pc(0x104);
            throw new InvalidOperationException("magic number reached");
        }
        Trace.Pc(0x105);
    }
}
