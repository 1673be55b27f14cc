using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Kcov.Workloads;

/// <summary>YAML: every parsing event, then a deserialize/serialize round trip of the whole document.</summary>
public static class YamlWorkload
{
    public static string Run(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        var output = new StringBuilder();
        var parser = new Parser(new StringReader(text));
        while (parser.MoveNext())
            output.AppendLine(parser.Current!.ToString());
        var value = new DeserializerBuilder().Build().Deserialize(new StringReader(text));
        output.Append(new SerializerBuilder().Build().Serialize(value ?? ""));
        return output.ToString();
    }
}
