using System.Text;
using Markdig;

namespace Kcov.Samples.Targets;

/// <summary>A real library: Markdig renders the input as Markdown with its advanced extensions. No planted bug.</summary>
public static class MarkdownTarget
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public static void Run(ReadOnlySpan<byte> data) => Markdown.ToHtml(Encoding.UTF8.GetString(data), Pipeline);
}
