using System.Text;

namespace Kcov.Samples.Targets;

/// <summary>
/// Depth 2: a string keyword. A tiny command interpreter: "VERB argument". The comparison of
/// strings runs in CoreLib (not instrumented), so neither coverage nor comparison hints see it
/// byte by byte; the keyword reaches the fuzzer as a token of the target's own string literals.
/// </summary>
public static class KeywordTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        string line = Encoding.ASCII.GetString(data);
        int space = line.IndexOf(' ');
        string verb = space < 0 ? line : line[..space];
        string argument = space < 0 ? "" : line[(space + 1)..];
        switch (verb)
        {
            case "get":
            case "put":
                if (argument.Length == 0)
                    return;
                break;
            case "list":
                break;
            case "detonate":
                throw new InvalidOperationException($"planted bug: 'detonate {argument}' was executed");
        }
    }
}
