using System.Text;
using CsvHelper;
using ICSharpCode.SharpZipLib;
using ICSharpCode.SharpZipLib.Zip;

namespace Kcov.FuzzBench;

/// <summary>
/// The benchmark's targets: each the usual entry point of a parser from NuGet, on text (UTF-8) or bytes.
/// Exceptions a library documents for invalid input are caught here; anything else is a finding.
/// </summary>
internal static class Targets
{
    public static void Markdig(ReadOnlySpan<byte> data) =>
        global::Markdig.Markdown.ToHtml(Encoding.UTF8.GetString(data));

    public static void Yaml(ReadOnlySpan<byte> data)
    {
        try
        {
            new YamlDotNet.RepresentationModel.YamlStream().Load(new StringReader(Encoding.UTF8.GetString(data)));
        }
        catch (YamlDotNet.Core.YamlException)
        {
            // Invalid YAML, reported as such.
        }
    }

    public static void AngleSharp(ReadOnlySpan<byte> data)
    {
        var document = new global::AngleSharp.Html.Parser.HtmlParser().ParseDocument(Encoding.UTF8.GetString(data));
        _ = document.Body?.TextContent;
    }

    public static void Csv(ReadOnlySpan<byte> data)
    {
        using var csv = CsvReader.Create(data.ToArray(), null);
        _ = csv.Headers;
        while (csv.Read())
            for (int i = 0; i < csv.FieldCount; i++)
                _ = csv.GetString(i);
    }

    public static void HtmlAgilityPack(ReadOnlySpan<byte> data)
    {
        var document = new global::HtmlAgilityPack.HtmlDocument();
        document.LoadHtml(Encoding.UTF8.GetString(data));
        _ = document.DocumentNode.InnerText;
    }

    public static void Zip(ReadOnlySpan<byte> data)
    {
        try
        {
            using var zip = new ZipInputStream(new MemoryStream(data.ToArray(), writable: false));
            var buffer = new byte[4096];
            while (zip.GetNextEntry() is not null)
                while (zip.Read(buffer, 0, buffer.Length) > 0)
                {
                }
        }
        catch (SharpZipBaseException)
        {
            // A corrupt archive, reported as such.
        }
    }
}
