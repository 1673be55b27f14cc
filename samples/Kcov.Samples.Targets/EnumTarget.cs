using System.Text;

namespace Kcov.Samples.Targets;

/// <summary>An <c>Enum.Parse</c> of the input: enum names are metadata, not string literals, and the parse runs in CoreLib.</summary>
public static class EnumTarget
{
    public enum Opcode { Nop, Load, Store, Jump, Call, Return, Halt, Detonate }

    public static void Run(ReadOnlySpan<byte> data)
    {
        string text = Encoding.ASCII.GetString(data).Trim();
        // Enum.Parse also takes numbers ("7"): only names count here.
        if (text.Length == 0 || !char.IsAsciiLetter(text[0]))
            return;
        Opcode op;
        try
        {
            op = Enum.Parse<Opcode>(text);
        }
        catch (ArgumentException)
        {
            return;
        }
        if (op == Opcode.Detonate)
            throw new InvalidOperationException("planted bug: the Detonate opcode was parsed");
    }
}
