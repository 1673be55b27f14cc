namespace Kcov.Fuzzing.Ipc;

/// <summary>
/// One message between executor and supervisor. Every field is always on the wire (empty
/// when a kind does not use it): one layout to read on both sides, and messages are rare
/// (new corpus inputs and crashes, not executions), so the few extra bytes do not matter.
/// </summary>
internal sealed class Message
{
    public MessageKind Kind { get; init; }
    public long[] Numbers { get; init; } = [];
    public string Text { get; init; } = "";
    public string Detail { get; init; } = "";
    public byte[] Input { get; init; } = [];
    public List<byte[]> Inputs { get; init; } = [];
    public uint[] Features { get; init; } = [];
    /// <summary>Compared values (the campaign's dictionary), or known hanging inputs: see <see cref="MessageKind"/>.</summary>
    public List<byte[]> Tokens { get; init; } = [];
    /// <summary>One byte per input of <see cref="Inputs"/> (Start: bit 0 = its hints are done, bit 1 = some of its children hung).</summary>
    public byte[] Flags { get; init; } = [];
    /// <summary>Start: inputs known to hang, which the executor must never run.</summary>
    public List<byte[]> Hangs { get; init; } = [];
    public FuzzStats Stats { get; init; }

    public void Write(BinaryWriter w)
    {
        w.Write((byte)Kind);
        w.Write(Numbers.Length);
        foreach (var n in Numbers)
            w.Write(n);
        w.Write(Text);
        w.Write(Detail);
        WriteBytes(w, Input);
        w.Write(Inputs.Count);
        foreach (var input in Inputs)
            WriteBytes(w, input);
        w.Write(Features.Length);
        foreach (var f in Features)
            w.Write(f);
        WriteList(w, Tokens);
        WriteBytes(w, Flags);
        WriteList(w, Hangs);
        w.Write(Stats.Execs);
        w.Write(Stats.Cov);
        w.Write(Stats.Features);
        w.Write(Stats.CorpusCount);
        w.Write(Stats.CorpusBytes);
        w.Write(Stats.Overflows);
        w.Write(Stats.LengthLimit);
        w.Write(Stats.Edges);
    }

    public static Message Read(BinaryReader r)
    {
        var kind = (MessageKind)r.ReadByte();
        var numbers = new long[r.ReadInt32()];
        for (int i = 0; i < numbers.Length; i++)
            numbers[i] = r.ReadInt64();
        string text = r.ReadString();
        string detail = r.ReadString();
        byte[] input = ReadBytes(r);
        int count = r.ReadInt32();
        var inputs = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
            inputs.Add(ReadBytes(r));
        var features = new uint[r.ReadInt32()];
        for (int i = 0; i < features.Length; i++)
            features[i] = r.ReadUInt32();
        var tokens = ReadList(r);
        var flags = ReadBytes(r);
        var hangs = ReadList(r);
        var stats = new FuzzStats(r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32());
        return new Message { Kind = kind, Numbers = numbers, Text = text, Detail = detail, Input = input, Inputs = inputs, Features = features, Tokens = tokens, Flags = flags, Hangs = hangs, Stats = stats };
    }

    private static void WriteList(BinaryWriter w, List<byte[]> list)
    {
        w.Write(list.Count);
        foreach (var item in list)
            WriteBytes(w, item);
    }

    private static List<byte[]> ReadList(BinaryReader r)
    {
        int count = r.ReadInt32();
        var list = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
            list.Add(ReadBytes(r));
        return list;
    }

    private static void WriteBytes(BinaryWriter w, byte[] bytes)
    {
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static byte[] ReadBytes(BinaryReader r)
    {
        int n = r.ReadInt32();
        return r.ReadBytes(n) is { } b && b.Length == n ? b : throw new EndOfStreamException();
    }
}
