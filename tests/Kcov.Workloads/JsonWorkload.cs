using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Kcov.Workloads;

/// <summary>JSON with Newtonsoft.Json: the token stream, then a JToken round trip.</summary>
public static class JsonWorkload
{
    public static string Run(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        var output = new StringBuilder();
        using (var reader = new JsonTextReader(new StringReader(text)))
        {
            while (reader.Read())
                output.Append(reader.TokenType).Append('=').Append(reader.Value).Append(';');
        }
        output.Append('\n').Append(JToken.Parse(text).ToString(Formatting.Indented));
        return output.ToString();
    }
}
