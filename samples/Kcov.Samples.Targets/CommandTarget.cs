using System.Text;

namespace Kcov.Samples.Targets;

/// <summary>A keyword looked up in a <c>Dictionary&lt;string, Handler&gt;</c>: the lookup runs in CoreLib.</summary>
public static class CommandTarget
{
    private delegate void Handler(string argument);

    private static readonly Dictionary<string, Handler> Handlers = new()
    {
        ["open"] = a => Touch(a),
        ["close"] = a => Touch(a),
        ["read"] = a => Touch(a),
        ["write"] = a => Touch(a),
        ["seek"] = a => Touch(a),
        ["flush"] = a => Touch(a),
        ["stat"] = a => Touch(a),
        ["truncate"] = a => throw new InvalidOperationException($"planted bug: truncate '{a}' was executed"),
        ["rename"] = a => Touch(a),
        ["unlink"] = a => Touch(a),
    };

    private static int s_touched;

    private static void Touch(string argument) => s_touched += argument.Length;

    public static void Run(ReadOnlySpan<byte> data)
    {
        string line = Encoding.UTF8.GetString(data);
        int space = line.IndexOf(' ');
        string verb = space < 0 ? line : line[..space];
        if (Handlers.TryGetValue(verb, out var handler))
            handler(space < 0 ? "" : line[(space + 1)..]);
    }
}
