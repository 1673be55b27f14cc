using System.Globalization;

namespace Kcov.Coverage.Reports;

/// <summary>A plain-text summary: the total, then covered/total blocks per file, per type and per method.</summary>
public static class SummaryWriter
{
    public static void Write(CoverageData data, TextWriter output)
    {
        var total = data.Total;
        output.Write(string.Format(CultureInfo.InvariantCulture,
            "blocks: {0} of {1} covered ({2:0.0}%) in {3} module(s); {4} PC(s) matched no map\n",
            total.Covered, total.Total, 100 * total.Rate, data.ModuleCount, data.UnknownPcs));
        Section(output, "file", data.ByFile());
        Section(output, "type", data.ByType());
        Section(output, "method", data.ByMethod());
    }

    private static void Section(TextWriter output, string title, IReadOnlyList<(string Name, CoverageCount Count)> rows)
    {
        output.Write('\n');
        output.Write(string.Format(CultureInfo.InvariantCulture, "{0,8} {1,8} {2,7}  {3}\n", "covered", "blocks", "%", title));
        foreach (var (name, count) in rows)
            output.Write(string.Format(CultureInfo.InvariantCulture, "{0,8} {1,8} {2,6:0.0}%  {3}\n",
                count.Covered, count.Total, 100 * count.Rate, name));
    }
}
