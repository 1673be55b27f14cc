using System.Buffers.Binary;
using System.Text;

namespace Kcov.Coverage;

/// <summary>
/// The PC map file format, version 1: the only code that reads or writes it (docs/pcmap.md
/// describes the same layout; change both together and bump <see cref="Version"/>).
/// All integers little-endian.
/// <code>
/// header   (64 bytes)  magic "KCOVMAP\0", u32 version, u32 module id, u32 flags (1 = trace-pc, 2 = trace-cmp),
///                      u32 string count, u32 document count, u32 method count, u32 site count,
///                      u32 assembly name (string index), u32 module name (string index), u8[16] input MVID,
///                      u8[16] output MVID
/// strings  (count x)   u32 byte length, UTF-8 bytes
/// documents(count x)   u32 string index
/// methods  (count x)   u32 token, u32 type name, u32 name, u32 signature, u32 owner type name, u32 owner name (string indices)
/// sites    (count x)   u32 method index, u32 IL offset, u32 document index + 1 (0 = none), u32 line, u16 column,
///                      u8 kind, u8 reserved (0)     = 20 bytes, site i is the i-th record
/// spans    u32 count, then (count x) u32 block site, u32 document index, u32 start line, u32 end line  (in site order)
/// edges    u32 count, then (count x) u32 from site (0xffffffff: entered from outside), u32 to site, u32 branch line,
///                      u16 flags (1 = branch outcome), u16 outcome
/// </code>
/// Fixed-size site records make a million-site map one sequential read; strings are shared, so a
/// type or document name is stored once however many sites name it.
/// </summary>
internal static class PcMapFormat
{
    public const uint Version = 2;
    private static ReadOnlySpan<byte> Magic => "KCOVMAP\0"u8;
    private const int HeaderSize = 8 + 4 * 10 + 16 + 16;
    private const int MethodSize = 6 * 4;
    private const int SiteSize = 20;
    private const int SpanSize = 16;
    private const int EdgeSize = 16;
    private const ushort EdgeIsBranch = 1;
    private const uint FlagTracePc = 1, FlagTraceCmp = 2;

    public static void Write(PcMap map, Stream stream)
    {
        var strings = new List<string>();
        var index = new Dictionary<string, uint>(StringComparer.Ordinal);
        uint Intern(string s)
        {
            if (!index.TryGetValue(s, out uint i))
            {
                i = (uint)strings.Count;
                strings.Add(s);
                index.Add(s, i);
            }
            return i;
        }

        uint assemblyName = Intern(map.AssemblyName);
        uint moduleName = Intern(map.ModuleName);
        var documents = map.Documents.Select(Intern).ToArray();
        var methods = map.Methods.Select(m => new[]
        {
            (uint)m.Token, Intern(m.TypeName), Intern(m.Name), Intern(m.Signature), Intern(m.OwnerTypeName), Intern(m.OwnerName),
        }).ToArray();

        using var output = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        var fields = header[8..];
        uint flags = (map.TracePc ? FlagTracePc : 0) | (map.TraceCmp ? FlagTraceCmp : 0);
        uint[] values = [Version, map.ModuleId, flags, (uint)strings.Count, (uint)documents.Length,
            (uint)methods.Length, (uint)map.SiteCount, assemblyName, moduleName];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(fields[(4 * i)..], values[i]);
        // One reserved word keeps the MVIDs 8-byte aligned.
        BinaryPrimitives.WriteUInt32LittleEndian(fields[(4 * values.Length)..], 0);
        map.InputMvid.TryWriteBytes(header[(HeaderSize - 32)..]);
        map.OutputMvid.TryWriteBytes(header[(HeaderSize - 16)..]);
        output.Write(header);

        foreach (var s in strings)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(s);
            WriteU32(output, (uint)utf8.Length);
            output.Write(utf8);
        }
        foreach (uint d in documents)
            WriteU32(output, d);
        foreach (var m in methods)
            foreach (uint v in m)
                WriteU32(output, v);

        var record = new byte[SiteSize];
        foreach (var site in map.Sites)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)site.Method);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), (uint)site.ILOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), (uint)(site.Document + 1));
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), (uint)site.Line);
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(16), (ushort)Math.Clamp(site.Column, 0, ushort.MaxValue));
            record[18] = (byte)site.Kind;
            record[19] = 0;
            output.Write(record);
        }

        WriteU32(output, (uint)map.Spans.Length);
        foreach (var span in map.Spans)
        {
            WriteU32(output, (uint)span.Site);
            WriteU32(output, (uint)span.Document);
            WriteU32(output, (uint)span.StartLine);
            WriteU32(output, (uint)span.EndLine);
        }
        WriteU32(output, (uint)map.Edges.Length);
        Span<byte> edge = stackalloc byte[EdgeSize];
        foreach (var e in map.Edges)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(edge, unchecked((uint)e.From));
            BinaryPrimitives.WriteUInt32LittleEndian(edge[4..], (uint)e.To);
            BinaryPrimitives.WriteUInt32LittleEndian(edge[8..], (uint)e.Line);
            BinaryPrimitives.WriteUInt16LittleEndian(edge[12..], e.IsBranch ? EdgeIsBranch : (ushort)0);
            BinaryPrimitives.WriteUInt16LittleEndian(edge[14..], (ushort)e.Outcome);
            output.Write(edge);
        }
    }

    private static void WriteU32(BinaryWriter writer, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        writer.Write(b);
    }

    public static PcMap Read(ReadOnlySpan<byte> data, string name)
    {
        if (data.Length < HeaderSize || !data[..8].SequenceEqual(Magic))
            throw Bad(name, "it does not start with a PC map header (was it written by `dotnet kcov instrument`?)");
        uint version = U32(data, 8);
        if (version != Version)
            throw Bad(name, $"it is PC map format version {version}, and this kcov reads version {Version}; instrument again with this kcov, or use the kcov that wrote it");
        uint moduleId = U32(data, 12);
        uint flags = U32(data, 16);
        int stringCount = Count(data, 20, name), documentCount = Count(data, 24, name);
        int methodCount = Count(data, 28, name), siteCount = Count(data, 32, name);
        uint assemblyName = U32(data, 36), moduleName = U32(data, 40);
        var inputMvid = new Guid(data.Slice(HeaderSize - 32, 16));
        var outputMvid = new Guid(data.Slice(HeaderSize - 16, 16));
        if (moduleId == 0)
            throw Bad(name, "its module id is 0, which no instrumented module has");

        int pos = HeaderSize;
        var strings = new string[stringCount];
        for (int i = 0; i < stringCount; i++)
        {
            uint rawLength = U32(data, Take(data, ref pos, 4, name));
            int length = rawLength <= int.MaxValue ? (int)rawLength : -1;
            int start = Take(data, ref pos, length, name);
            strings[i] = Encoding.UTF8.GetString(data.Slice(start, length));
        }
        string Str(uint i) => i < (uint)strings.Length ? strings[i] : throw Bad(name, $"string index {i} is out of range ({strings.Length} strings)");

        var documents = new string[documentCount];
        for (int i = 0; i < documentCount; i++)
            documents[i] = Str(U32(data, Take(data, ref pos, 4, name)));

        var methods = new PcMapMethod[methodCount];
        for (int i = 0; i < methodCount; i++)
        {
            int at = Take(data, ref pos, MethodSize, name);
            methods[i] = new PcMapMethod((int)U32(data, at), Str(U32(data, at + 4)), Str(U32(data, at + 8)),
                Str(U32(data, at + 12)), Str(U32(data, at + 16)), Str(U32(data, at + 20)));
        }

        if (pos + (long)siteCount * SiteSize + 8 > data.Length)
            throw Bad(name, $"it is {data.Length} bytes long, too short for the {siteCount} sites its header announces (truncated or corrupt)");
        var sites = new PcMapSite[siteCount];
        for (int i = 0; i < siteCount; i++, pos += SiteSize)
        {
            var r = data.Slice(pos, SiteSize);
            uint method = BinaryPrimitives.ReadUInt32LittleEndian(r);
            uint document = BinaryPrimitives.ReadUInt32LittleEndian(r[8..]);
            byte kind = r[18];
            if (method >= (uint)methodCount || document > (uint)documentCount || kind > (byte)SiteKind.Switch)
                throw Bad(name, $"site {i} has method {method}, document {document} or kind {kind} out of range");
            sites[i] = new PcMapSite((SiteKind)kind, (int)method, (int)BinaryPrimitives.ReadUInt32LittleEndian(r[4..]),
                (int)document - 1, (int)BinaryPrimitives.ReadUInt32LittleEndian(r[12..]), BinaryPrimitives.ReadUInt16LittleEndian(r[16..]));
        }

        int spanCount = Count(data, Take(data, ref pos, 4, name), name);
        var spans = new PcMapSpan[spanCount];
        for (int i = 0; i < spanCount; i++)
        {
            int at = Take(data, ref pos, SpanSize, name);
            spans[i] = new PcMapSpan((int)U32(data, at), (int)U32(data, at + 4), (int)U32(data, at + 8), (int)U32(data, at + 12));
        }
        int edgeCount = Count(data, Take(data, ref pos, 4, name), name);
        long expected = pos + (long)edgeCount * EdgeSize;
        if (expected != data.Length)
            throw Bad(name, $"it is {data.Length} bytes long but its tables announce {edgeCount} edges ending at byte {expected} (truncated or corrupt)");
        var edges = new PcMapEdge[edgeCount];
        for (int i = 0; i < edgeCount; i++, pos += EdgeSize)
        {
            var r = data.Slice(pos, EdgeSize);
            edges[i] = new PcMapEdge(unchecked((int)BinaryPrimitives.ReadUInt32LittleEndian(r)), (int)BinaryPrimitives.ReadUInt32LittleEndian(r[4..]),
                (int)BinaryPrimitives.ReadUInt32LittleEndian(r[8..]), (BinaryPrimitives.ReadUInt16LittleEndian(r[12..]) & EdgeIsBranch) != 0,
                BinaryPrimitives.ReadUInt16LittleEndian(r[14..]));
        }
        try
        {
            return new PcMap(moduleId, Str(assemblyName), Str(moduleName), inputMvid, outputMvid,
                (flags & FlagTracePc) != 0, (flags & FlagTraceCmp) != 0, documents, methods, sites, spans, edges);
        }
        catch (ArgumentException e)
        {
            throw Bad(name, e.Message);
        }
    }

    private static uint U32(ReadOnlySpan<byte> data, int at) => BinaryPrimitives.ReadUInt32LittleEndian(data[at..]);

    private static int Count(ReadOnlySpan<byte> data, int at, string name)
    {
        uint n = U32(data, at);
        // Every entry takes at least 4 bytes, so a count beyond that is corrupt, not a reason to allocate.
        return n <= (uint)data.Length / 4 ? (int)n : throw Bad(name, $"a count of {n} entries cannot fit in {data.Length} bytes (corrupt)");
    }

    /// <summary>Reserves <paramref name="length"/> bytes at <paramref name="pos"/>, returning their start.</summary>
    private static int Take(ReadOnlySpan<byte> data, ref int pos, int length, string name)
    {
        if (length < 0 || pos > data.Length - length)
            throw Bad(name, $"it ends at byte {data.Length}, in the middle of its tables (truncated)");
        int start = pos;
        pos += length;
        return start;
    }

    private static InvalidDataException Bad(string name, string why) =>
        new($"'{name}' is not a valid PC map: {why}.");
}
