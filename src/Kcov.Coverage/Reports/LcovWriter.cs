using System.Globalization;

namespace Kcov.Coverage.Reports;

/// <summary>
/// Writes lcov's tracefile format (geninfo(1)): one record per source file with its functions
/// (FN/FNDA: entry-block hits), its branch outcomes (BRDA: line, branching block, outcome, times
/// taken or '-' when the branch never ran) and its lines (DA: the most hits of any block covering it).
/// genhtml, ReportGenerator and the IDE coverage gutters read it.
/// </summary>
public static class LcovWriter
{
    public static void Write(CoverageData data, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        var files = data.Methods.Where(m => m.File is not null)
            .GroupBy(m => m.File!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var file in files)
        {
            output.Write("TN:\n");
            output.Write($"SF:{file.Key}\n");
            var functions = file.OrderBy(m => m.FirstLine).ThenBy(m => m.Method.FullName, StringComparer.Ordinal).ToList();
            foreach (var m in functions)
                output.Write(string.Format(inv, "FN:{0},{1}\n", m.FirstLine, Name(m)));
            foreach (var m in functions)
                output.Write(string.Format(inv, "FNDA:{0},{1}\n", m.EntryHits, Name(m)));
            output.Write(string.Format(inv, "FNF:{0}\nFNH:{1}\n", functions.Count, functions.Count(m => m.EntryHits > 0)));

            var branches = MethodCoverage.BranchesOfFile(file);
            foreach (var b in branches)
                output.Write(string.Format(inv, "BRDA:{0},{1},{2},{3}\n", b.Line, b.BranchSite, b.Outcome, b.Taken is { } t ? t.ToString(inv) : "-"));
            output.Write(string.Format(inv, "BRF:{0}\nBRH:{1}\n", branches.Count, branches.Count(b => b.Taken > 0)));

            var lines = MethodCoverage.LinesOfFile(file);
            foreach (var (line, hits) in lines)
                output.Write(string.Format(inv, "DA:{0},{1}\n", line, hits));
            output.Write(string.Format(inv, "LF:{0}\nLH:{1}\n", lines.Count, lines.Values.Count(h => h > 0)));
            output.Write("end_of_record\n");
        }
    }

    // Overloads share a name; the signature keeps lcov's function names unique. Commas would end the FN field.
    private static string Name(MethodCoverage m) => (m.Method.FullName + m.Method.Signature).Replace(',', ';');
}
