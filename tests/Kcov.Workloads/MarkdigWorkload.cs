using System.Text;
using Markdig;

namespace Kcov.Workloads;

/// <summary>Markdown to HTML with every advanced extension (tables, footnotes, math, task lists...).</summary>
public static class MarkdigWorkload
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public static string Run(byte[] input) => Markdown.ToHtml(Encoding.UTF8.GetString(input), Pipeline);
}
