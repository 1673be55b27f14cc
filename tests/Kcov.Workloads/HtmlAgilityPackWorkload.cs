using System.Text;
using HtmlAgilityPack;

namespace Kcov.Workloads;

/// <summary>HTML with HtmlAgilityPack: the serialized tree, the parse errors and an XPath query.</summary>
public static class HtmlAgilityPackWorkload
{
    public static string Run(byte[] input)
    {
        var document = new HtmlDocument();
        document.LoadHtml(Encoding.UTF8.GetString(input));
        var links = document.DocumentNode.SelectNodes("//a[@href]");
        return document.DocumentNode.OuterHtml + "\n" + string.Join("|", document.ParseErrors.Select(e => e.Code + "@" + e.Line))
            + "\n" + (links?.Count ?? 0);
    }
}
