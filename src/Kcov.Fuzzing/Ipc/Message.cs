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

    /// <summary>
    /// The message in <paramref name="payload"/>, which must be exactly one message. Every count is
    /// checked against the bytes that are left before anything is allocated for it.
    /// </summary>
    /// <exception cref="InvalidDataException">It is not.</exception>
    public static Message Decode(byte[] payload)
    {
        using var r = new BinaryReader(new MemoryStream(payload, writable: false));
        try
        {
            var message = Read(r);
            if (r.BaseStream.Position != payload.Length)
                throw new InvalidDataException($"{payload.Length - r.BaseStream.Position} bytes after the message");
            return message;
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or IOException)
        {
            throw new InvalidDataException($"the message is cut short or malformed ({e.Message})", e);
        }
    }

    private static Message Read(BinaryReader r)
    {
        byte kind = r.ReadByte();
        if (!Enum.IsDefined((MessageKind)kind))
            throw new InvalidDataException($"unknown message kind {kind}");
        var numbers = new long[Count(r, sizeof(long))];
        for (int i = 0; i < numbers.Length; i++)
            numbers[i] = r.ReadInt64();
        string text = r.ReadString();
        string detail = r.ReadString();
        byte[] input = ReadBytes(r);
        int count = Count(r, sizeof(int));
        var inputs = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
            inputs.Add(ReadBytes(r));
        var features = new uint[Count(r, sizeof(uint))];
        for (int i = 0; i < features.Length; i++)
            features[i] = r.ReadUInt32();
        var tokens = ReadList(r);
        var flags = ReadBytes(r);
        var hangs = ReadList(r);
        var stats = new FuzzStats(r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), r.ReadInt32(), r.ReadInt32());
        return new Message { Kind = (MessageKind)kind, Numbers = numbers, Text = text, Detail = detail, Input = input, Inputs = inputs, Features = features, Tokens = tokens, Flags = flags, Hangs = hangs, Stats = stats };
    }

    /// <summary>
    /// What is wrong with this message as one from an executor of a campaign whose inputs are at most
    /// <paramref name="maxLen"/> bytes, or null: the fields its kind uses must be there and make sense.
    /// </summary>
    public string? ProblemFromExecutor(int maxLen)
    {
        if (Kind is MessageKind.Start or MessageKind.AddInput or MessageKind.HangParent or MessageKind.Park)
            return $"{Kind} is the supervisor's message";
        if (Input.Length > maxLen)
            return $"{Kind} carries an input of {Input.Length} bytes (at most {maxLen})";
        if (Stats.Execs < 0 || Stats.Cov < 0 || Stats.Features < 0 || Stats.CorpusCount < 0 || Stats.CorpusBytes < 0 || Stats.Overflows < 0 || Stats.LengthLimit < 0 || Stats.Edges < 0)
            return $"{Kind} carries negative statistics";
        return Kind switch
        {
            MessageKind.Hello when Numbers.Length != 2 || Numbers[0] < 0 => "Hello needs [slot, area fd]",
            MessageKind.Crash when Numbers.Length < 2 || !Enum.IsDefined((Crashes.ArtifactKind)Numbers[0]) || Numbers[1] < 0 => "Crash needs [artifact kind, executions]",
            MessageKind.MergeFeatures when Numbers.Length < 1 || Numbers[0] < 0 => "MergeFeatures needs [input index]",
            MessageKind.Parked when Numbers.Length != 2 || Numbers[1] is not (0 or 1) => "Parked needs [heartbeat, 0 or 1]",
            _ => null,
        };
    }

    private static void WriteList(BinaryWriter w, List<byte[]> list)
    {
        w.Write(list.Count);
        foreach (var item in list)
            WriteBytes(w, item);
    }

    private static List<byte[]> ReadList(BinaryReader r)
    {
        int count = Count(r, sizeof(int));
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

    /// <summary>A count of elements of <paramref name="size"/> bytes that the rest of the message can hold.</summary>
    private static int Count(BinaryReader r, int size)
    {
        int n = r.ReadInt32();
        long left = r.BaseStream.Length - r.BaseStream.Position;
        if (n < 0 || (long)n * size > left)
            throw new InvalidDataException($"a count of {n} elements of {size} bytes where {left} bytes are left");
        return n;
    }

    private static byte[] ReadBytes(BinaryReader r) => r.ReadBytes(Count(r, 1));
}
