using System.Text;
using AngleSharp.Html.Parser;

namespace Kcov.Workloads;

/// <summary>HTML5 parsing with AngleSharp: the serialized document and a selector query.</summary>
public static class AngleSharpWorkload
{
    public static string Run(byte[] input)
    {
        var document = new HtmlParser().ParseDocument(Encoding.UTF8.GetString(input));
        var links = document.QuerySelectorAll("a[href], img[src], li > p");
        return document.DocumentElement.OuterHtml + "\n" + string.Join("|", links.Select(e => e.TagName + ":" + e.TextContent.Length));
    }
}
