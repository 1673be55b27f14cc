using System.Globalization;
using System.Text;
using System.Xml;

namespace Kcov.Coverage.Reports;

/// <summary>
/// Writes Cobertura XML (coverage-04.dtd), the format ReportGenerator, Azure DevOps, GitLab and
/// IDEs read: a package per module, a class per (user type, source file), its methods and lines,
/// lines with a conditional branch or switch marked branch="true" with their condition-coverage.
/// Compiler-generated code (lambdas, state machines) is reported under the type and method it was
/// written in. Code without source lines (no PDB, implicit constructors) has no class: Cobertura is
/// a report of files.
/// </summary>
public static class CoberturaWriter
{
    /// <param name="data">The coverage.</param>
    /// <param name="output">Where the XML goes.</param>
    /// <param name="timestamp">Seconds since the Unix epoch to record; pass a fixed value for reproducible files.</param>
    public static void Write(CoverageData data, TextWriter output, long timestamp)
    {
        // Through UTF-8 bytes, so the declaration says utf-8 whatever the TextWriter's own encoding.
        var bytes = new MemoryStream();
        var settings = new XmlWriterSettings { Indent = true, NewLineChars = "\n", Encoding = new UTF8Encoding(false) };
        using (var xml = XmlWriter.Create(bytes, settings))
            WriteDocument(xml, data, timestamp);
        output.Write(Encoding.UTF8.GetString(bytes.ToArray()));
    }

    private static void WriteDocument(XmlWriter xml, CoverageData data, long timestamp)
    {
        xml.WriteStartDocument();
        xml.WriteDocType("coverage", null, "http://cobertura.sourceforge.net/xml/coverage-04.dtd", null);
        var located = data.Methods.Where(m => m.File is not null).ToList();
        var all = Lines(located);
        var allBranches = located.SelectMany(m => m.Branches).ToList();
        xml.WriteStartElement("coverage");
        WriteRates(xml, all.Count, all.Values.Count(h => h > 0), allBranches);
        xml.WriteAttributeString("lines-covered", Str(all.Values.Count(h => h > 0)));
        xml.WriteAttributeString("lines-valid", Str(all.Count));
        xml.WriteAttributeString("branches-covered", Str(allBranches.Count(b => b.Taken > 0)));
        xml.WriteAttributeString("branches-valid", Str(allBranches.Count));
        xml.WriteAttributeString("version", "kcov-1");
        xml.WriteAttributeString("timestamp", Str(timestamp));

        xml.WriteStartElement("sources");
        xml.WriteElementString("source", "");
        xml.WriteEndElement();

        xml.WriteStartElement("packages");
        foreach (var module in located.GroupBy(m => m.Map).OrderBy(g => g.Key.AssemblyName, StringComparer.Ordinal))
        {
            xml.WriteStartElement("package");
            xml.WriteAttributeString("name", module.Key.AssemblyName);
            var moduleLines = Lines(module);
            WriteRates(xml, moduleLines.Count, moduleLines.Values.Count(h => h > 0), [.. module.SelectMany(m => m.Branches)]);
            xml.WriteStartElement("classes");
            var classes = module
                .GroupBy(m => (m.Method.OwnerTypeName, File: m.File!))
                .OrderBy(g => g.Key.OwnerTypeName, StringComparer.Ordinal)
                .ThenBy(g => g.Key.File, StringComparer.Ordinal);
            foreach (var cls in classes)
            {
                xml.WriteStartElement("class");
                xml.WriteAttributeString("name", cls.Key.OwnerTypeName);
                xml.WriteAttributeString("filename", cls.Key.File);
                // One file per class: its lines are keyed by line alone.
                var classLines = MethodCoverage.LinesOfFile(cls);
                var classBranches = MethodCoverage.BranchesOfFile(cls);
                WriteRates(xml, classLines, classBranches);
                xml.WriteStartElement("methods");
                foreach (var m in cls.OrderBy(m => m.FirstLine).ThenBy(m => m.Method.FullName, StringComparer.Ordinal))
                {
                    xml.WriteStartElement("method");
                    xml.WriteAttributeString("name", m.Method.OwnerName == m.Method.Name ? m.Method.Name : $"{m.Method.OwnerName}:{m.Method.TypeName}.{m.Method.Name}");
                    xml.WriteAttributeString("signature", m.Method.Signature);
                    WriteRates(xml, m.Lines, m.Branches);
                    WriteLines(xml, m.Lines, m.Branches);
                    xml.WriteEndElement();
                }
                xml.WriteEndElement();
                WriteLines(xml, classLines, classBranches);
                xml.WriteEndElement();
            }
            xml.WriteEndElement();
            xml.WriteEndElement();
        }
        xml.WriteEndElement();
        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    /// <summary>(file, line) -> the most hits of a block starting there, so two files' line 10 are two lines.</summary>
    private static Dictionary<(string?, int), long> Lines(IEnumerable<MethodCoverage> methods)
    {
        var lines = new Dictionary<(string?, int), long>();
        foreach (var m in methods)
            foreach (var (line, hits) in m.Lines)
                lines[(m.File, line)] = Math.Max(hits, lines.GetValueOrDefault((m.File, line)));
        return lines;
    }

    private static void WriteRates(XmlWriter xml, SortedDictionary<int, long> lines, List<BranchCoverage> branches) =>
        WriteRates(xml, lines.Count, lines.Values.Count(h => h > 0), branches);

    private static void WriteRates(XmlWriter xml, int valid, int covered, List<BranchCoverage> branches)
    {
        xml.WriteAttributeString("line-rate", Rate(covered, valid));
        xml.WriteAttributeString("branch-rate", Rate(branches.Count(b => b.Taken > 0), branches.Count));
        xml.WriteAttributeString("complexity", "0");
    }

    private static string Rate(int covered, int valid) =>
        (valid == 0 ? 0 : (double)covered / valid).ToString("0.####", CultureInfo.InvariantCulture);

    private static void WriteLines(XmlWriter xml, SortedDictionary<int, long> lines, List<BranchCoverage> branches)
    {
        var byLine = branches.GroupBy(b => b.Line).ToDictionary(g => g.Key, g => g.ToList());
        xml.WriteStartElement("lines");
        foreach (var (line, hits) in lines)
        {
            if (line <= 0)
                continue;
            xml.WriteStartElement("line");
            xml.WriteAttributeString("number", Str(line));
            xml.WriteAttributeString("hits", Str(hits));
            if (byLine.TryGetValue(line, out var outcomes))
            {
                int taken = outcomes.Count(b => b.Taken > 0);
                string percent = (100 * taken / outcomes.Count).ToString(CultureInfo.InvariantCulture) + "%";
                xml.WriteAttributeString("branch", "true");
                xml.WriteAttributeString("condition-coverage", $"{percent} ({Str(taken)}/{Str(outcomes.Count)})");
                xml.WriteStartElement("conditions");
                int number = 0;
                foreach (var branch in outcomes.GroupBy(b => b.BranchSite))
                {
                    var list = branch.ToList();
                    int covered = list.Count(b => b.Taken > 0);
                    xml.WriteStartElement("condition");
                    xml.WriteAttributeString("number", Str(number++));
                    xml.WriteAttributeString("type", list.Count > 2 ? "switch" : "jump");
                    xml.WriteAttributeString("coverage", (100 * covered / list.Count).ToString(CultureInfo.InvariantCulture) + "%");
                    xml.WriteEndElement();
                }
                xml.WriteEndElement();
            }
            else
                xml.WriteAttributeString("branch", "false");
            xml.WriteEndElement();
        }
        xml.WriteEndElement();
    }

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}
