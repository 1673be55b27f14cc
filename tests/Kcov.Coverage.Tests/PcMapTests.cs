
namespace Kcov.Coverage.Tests;

public sealed class PcMapTests
{
    private static byte[] Bytes(PcMap map)
    {
        using var stream = new MemoryStream();
        map.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void RoundTripsEveryField()
    {
        var map = Maps.Parser();
        var loaded = PcMap.Load(Bytes(map), "test");
        Assert.Equal(map.ModuleId, loaded.ModuleId);
        Assert.Equal(map.AssemblyName, loaded.AssemblyName);
        Assert.Equal(map.ModuleName, loaded.ModuleName);
        Assert.Equal(map.InputMvid, loaded.InputMvid);
        Assert.Equal(map.OutputMvid, loaded.OutputMvid);
        Assert.True(loaded.TracePc);
        Assert.True(loaded.TraceCmp);
        Assert.Equal(map.Documents, loaded.Documents);
        Assert.Equal(map.Methods, loaded.Methods);
        Assert.Equal(map.Sites.ToArray(), loaded.Sites.ToArray());
        Assert.Equal(Bytes(map), Bytes(loaded));
    }

    [Fact]
    public void StartsWithTheDocumentedHeader()
    {
        var bytes = Bytes(Maps.Parser());
        Assert.Equal("KCOVMAP\0"u8.ToArray(), bytes[..8]);
        Assert.Equal(2u, BitConverter.ToUInt32(bytes, 8));
        Assert.Equal(Maps.ModuleId, BitConverter.ToUInt32(bytes, 12));
        Assert.Equal(8u, BitConverter.ToUInt32(bytes, 32));
    }

    [Fact]
    public void RandomMapsRoundTrip()
    {
        var random = new Random(20240102);
        for (int run = 0; run < 200; run++)
        {
            var kinds = new byte[random.Next(1, 300)];
            random.NextBytes(kinds);
            string name = new([.. Enumerable.Range(0, random.Next(1, 20)).Select(_ => (char)random.Next(32, 0x3000))]);
            Assert.True(RoundTrip(kinds, random.Next(1, int.MaxValue / 2), name), $"run {run}");
        }
    }

    private static bool RoundTrip(byte[] kinds, int lines, string name)
    {
        var sites = kinds.Select((k, i) => new PcMapSite((SiteKind)(k % 3), i % 2, i * 3, i % 3 - 1, (lines + i) % 70000, i % 200)).ToArray();
        var map = new PcMap(7, name, name + ".dll", Guid.NewGuid(), Guid.NewGuid(), true, false, ["a.cs", name],
            [new PcMapMethod(1, "T", name, "()", "T", name), new PcMapMethod(2, "U", "M", "(x)", "U", "M")], sites);
        var loaded = PcMap.Load(Bytes(map), "p");
        return loaded.Sites.SequenceEqual(map.Sites) && loaded.Methods.SequenceEqual(map.Methods) && loaded.AssemblyName == name;
    }

    [Fact]
    public void EveryTruncationIsAClearError()
    {
        var bytes = Bytes(Maps.Parser());
        for (int length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<InvalidDataException>(() => PcMap.Load(bytes.AsSpan(0, length), "cut.kcovmap"));
            Assert.StartsWith("'cut.kcovmap' is not a valid PC map: ", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Fact]
    public void ANewerVersionSaysSo()
    {
        var bytes = Bytes(Maps.Parser());
        bytes[8] = 3;
        Assert.Contains("version 3", Assert.Throws<InvalidDataException>(() => PcMap.Load(bytes, "new")).Message);
    }

    [Fact]
    public void OutOfRangeIndicesAreCorrupt()
    {
        var map = Maps.Parser();
        var bytes = Bytes(map);
        // The last site's method index: before the span and edge tables.
        BitConverter.GetBytes(99u).CopyTo(bytes, bytes.Length - (4 + 16 * map.Edges.Length) - (4 + 16 * map.Spans.Length) - 20);
        Assert.Contains("site 7", Assert.Throws<InvalidDataException>(() => PcMap.Load(bytes, "bad")).Message);
    }

    [Fact]
    public void AMillionSitesRoundTrip()
    {
        var sites = new PcMapSite[1_000_000];
        for (int i = 0; i < sites.Length; i++)
            sites[i] = new PcMapSite(SiteKind.Block, i % 1000, i, 0, i / 10 + 1, 1);
        var methods = Enumerable.Range(0, 1000).Select(i => new PcMapMethod(i, "T" + i / 10, "M" + i, "()", "T" + i / 10, "M" + i)).ToArray();
        var map = new PcMap(9, "Big", "Big.dll", Guid.Empty, Guid.Empty, true, false, ["big.cs"], methods, sites);
        var bytes = Bytes(map);
        // 20 bytes per site, and little else.
        Assert.InRange(bytes.Length - 20_000_000, 64, 100_000);
        var loaded = PcMap.Load(bytes, "big");
        Assert.Equal(1_000_000, loaded.SiteCount);
        Assert.Equal(sites[999_999], loaded.Sites[999_999]);
        Assert.True(loaded.TryGetSite(SiteId.Pc(9, 123_456), out var site));
        Assert.Equal(123_456, site.ILOffset);
    }

    [Fact]
    public void SiteIdsSplitIntoModuleAndIndex()
    {
        ulong pc = SiteId.Pc(0xdeadbeef, 42);
        Assert.Equal(0xdeadbeef00000000UL | 42, pc);
        Assert.Equal(0xdeadbeefu, SiteId.ModuleOf(pc));
        Assert.Equal(42, SiteId.IndexOf(pc));
    }

    [Fact]
    public void ModuleIdsAreStableAndNeverZero()
    {
        var mvid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        Assert.Equal(SiteId.ModuleIdFor("Markdig", mvid), SiteId.ModuleIdFor("Markdig", mvid));
        Assert.NotEqual(SiteId.ModuleIdFor("Markdig", mvid), SiteId.ModuleIdFor("Markdig2", mvid));
        Assert.NotEqual(0u, SiteId.ModuleIdFor("", Guid.Empty));
    }
}
