namespace Kcov.Workloads;

/// <summary>One real library, the call that feeds it an input, and the real documents it is fed.</summary>
/// <param name="Name">Short name, e.g. "Markdig".</param>
/// <param name="AssemblyName">The library's assembly name, e.g. "Markdig".</param>
/// <param name="RunType">The type in this assembly whose static <c>string Run(byte[])</c> parses an input and
/// returns everything it produced, serialized (it throws what the library throws).</param>
/// <param name="Seeds">The real documents.</param>
public sealed record LibraryWorkload(string Name, string AssemblyName, Type RunType, Func<IReadOnlyList<byte[]>> Seeds)
{
    /// <summary>The seven libraries the instrumenter is proven on.</summary>
    public static IReadOnlyList<LibraryWorkload> All { get; } =
    [
        new("Markdig", "Markdig", typeof(MarkdigWorkload), () => Corpus.Documents("markdown")),
        new("YamlDotNet", "YamlDotNet", typeof(YamlWorkload), () => Corpus.Documents("yaml")),
        new("AngleSharp", "AngleSharp", typeof(AngleSharpWorkload), () => Corpus.Documents("html")),
        new("Newtonsoft.Json", "Newtonsoft.Json", typeof(JsonWorkload), () => Corpus.Documents("json")),
        new("CsvHelper", "CsvHelper", typeof(CsvWorkload), () => Corpus.Documents("csv")),
        new("HtmlAgilityPack", "HtmlAgilityPack", typeof(HtmlAgilityPackWorkload), () => Corpus.Documents("html")),
        new("SharpZipLib", "ICSharpCode.SharpZipLib", typeof(SharpZipLibWorkload), SharpZipLibWorkload.Archives),
    ];

    /// <summary>The original library's assembly file (the one this assembly was built against).</summary>
    public string OriginalPath => Path.Combine(AppContext.BaseDirectory, AssemblyName + ".dll");
}
