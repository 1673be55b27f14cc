namespace Kcov.Coverage.Tests;

/// <summary>A small hand-made PC map: two methods of one type in one file, one method without source, line spans and one branch.</summary>
internal static class Maps
{
    public const uint ModuleId = 0x1234abcd;

    public static PcMap Parser() => new(ModuleId, "Demo", "Demo.dll", Guid.Parse("11111111-2222-3333-4444-555555555555"),
        Guid.Parse("66666666-7777-8888-9999-000000000000"), tracePc: true, traceCmp: true,
        documents: ["/src/Demo/Parser.cs"],
        methods:
        [
            new PcMapMethod(0x06000001, "Demo.Parser", "Parse", "(System.String)", "Demo.Parser", "Parse"),
            new PcMapMethod(0x06000002, "Demo.Parser", "IsDigit", "(System.Char)", "Demo.Parser", "IsDigit"),
            new PcMapMethod(0x06000003, "Demo.Parser+<>c", "<Parse>b__0_0", "(System.Int32)", "Demo.Parser", "Parse"),
            new PcMapMethod(0x06000004, "Demo.Generated", "Run", "()", "Demo.Generated", "Run"),
        ],
        sites:
        [
            new PcMapSite(SiteKind.Block, 0, 0, 0, 10, 9),   // 0: Parse entry
            new PcMapSite(SiteKind.Cmp, 0, 4, 0, 11, 13),    // 1
            new PcMapSite(SiteKind.Block, 0, 20, 0, 12, 13), // 2
            new PcMapSite(SiteKind.Block, 0, 30, 0, 14, 9),  // 3
            new PcMapSite(SiteKind.Block, 1, 0, 0, 20, 39),  // 4: IsDigit entry
            new PcMapSite(SiteKind.Switch, 1, 2, 0, 20, 39), // 5
            new PcMapSite(SiteKind.Block, 2, 0, 0, 11, 30),  // 6: lambda
            new PcMapSite(SiteKind.Block, 3, 0, -1, 0, 0),   // 7: no source
        ],
        // Parse's first statement runs over lines 10-11 and ends in a branch to line 12 or line 14.
        spans:
        [
            new PcMapSpan(0, 0, 10, 11), new PcMapSpan(2, 0, 12, 12), new PcMapSpan(3, 0, 14, 14),
            new PcMapSpan(4, 0, 20, 20), new PcMapSpan(6, 0, 11, 11),
        ],
        edges:
        [
            new PcMapEdge(PcMapEdge.External, 0, 0, false, 0),
            new PcMapEdge(0, 2, 11, true, 0),
            new PcMapEdge(0, 3, 11, true, 1),
            new PcMapEdge(PcMapEdge.External, 4, 0, false, 0),
            new PcMapEdge(PcMapEdge.External, 6, 0, false, 0),
            new PcMapEdge(PcMapEdge.External, 7, 0, false, 0),
        ]);
}
