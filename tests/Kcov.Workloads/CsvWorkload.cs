using System.Text;
using CsvHelper;

namespace Kcov.Workloads;

/// <summary>CSV with CsvHelper (its SIMD UTF-8 reader): the header, then every record's fields.</summary>
public static class CsvWorkload
{
    public static string Run(byte[] input)
    {
        using var csv = CsvReader.Create(input, null);
        var output = new StringBuilder();
        output.AppendLine(string.Join("|", csv.Headers));
        while (csv.Read())
        {
            for (int i = 0; i < csv.FieldCount; i++)
                output.Append(csv.GetString(i)).Append('|');
            output.AppendLine();
        }
        return output.ToString();
    }
}
