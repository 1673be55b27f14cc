namespace Kcov.Fuzzing.Crashes;

/// <summary>
/// The .NET runtime's report of a fatal error, as it writes it on the stderr of a process it
/// ends: "Stack overflow." (with "Repeated N times:" blocks), "Process terminated." (FailFast,
/// then its message), "Unhandled exception. T: message" (an exception no code caught, on a
/// thread other than the executor's), "Fatal error." (the runtime's own failures). Parsed into
/// what happened, the runtime's words and the frames of the stack, innermost first, up to the
/// first frame of the executor (the code that called the target).
/// </summary>
internal sealed class RuntimeLastWords
{
    /// <summary>The first line of each fatal report, and what it stands for.</summary>
    private static readonly (string Marker, FatalKind Kind)[] Markers =
    [
        ("Stack overflow.", FatalKind.StackOverflow),
        ("Process terminated.", FatalKind.FailFast),
        ("Unhandled exception.", FatalKind.UnhandledException),
        ("Fatal error.", FatalKind.FatalError),
    ];

    private RuntimeLastWords(FatalKind kind, string firstLine, string message, IReadOnlyList<RuntimeFrame> frames)
    {
        Kind = kind;
        FirstLine = firstLine;
        Message = message;
        Frames = frames;
    }

    public FatalKind Kind { get; }

    /// <summary>The marker line as the runtime wrote it ("Unhandled exception. System.X: text").</summary>
    public string FirstLine { get; }

    /// <summary>FailFast's message, or the unhandled exception's "Type: message"; empty if none.</summary>
    public string Message { get; }

    /// <summary>The stack, innermost first, without the executor's frames; repeats counted.</summary>
    public IReadOnlyList<RuntimeFrame> Frames { get; }

    /// <summary>True for a line with which the runtime starts a fatal report.</summary>
    public static bool IsMarker(string line) => Markers.Any(m => line.StartsWith(m.Marker, StringComparison.Ordinal));

    /// <summary>The last fatal report in <paramref name="stderr"/>, or null if there is none.</summary>
    public static RuntimeLastWords? Parse(string stderr)
    {
        var lines = stderr.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        foreach (var (marker, kind) in Markers)
        {
            int at = lines.FindLastIndex(l => l.StartsWith(marker, StringComparison.Ordinal));
            if (at < 0)
                continue;
            string message = kind switch
            {
                // "Process terminated." then FailFast's message on the next line.
                FatalKind.FailFast when at + 1 < lines.Count && !IsFrame(lines[at + 1]) => lines[at + 1].Trim(),
                // "Unhandled exception. System.X: text" (the type may also start the next line).
                FatalKind.UnhandledException => UnhandledMessage(lines, at),
                _ => "",
            };
            return new RuntimeLastWords(kind, lines[at], message, ReadFrames(lines, at + 1));
        }
        return null;
    }

    /// <summary>The unhandled exception's type name ("System.FormatException"), or "UnhandledException".</summary>
    public string ExceptionType
    {
        get
        {
            int colon = Message.IndexOf(':');
            return colon > 0 ? Message[..colon] : Message.Length > 0 ? Message : "UnhandledException";
        }
    }

    private static string UnhandledMessage(List<string> lines, int at)
    {
        string rest = lines[at]["Unhandled exception.".Length..].Trim();
        if (rest.Length == 0 && at + 1 < lines.Count && !IsFrame(lines[at + 1]))
            rest = lines[at + 1].Trim();
        return rest;
    }

    /// <summary>
    /// "   at Ns.Type.Method(args)" lines from <paramref name="from"/> on, until the executor's
    /// first frame. A stack overflow's "Repeated N times:" block (between "----" lines) gives
    /// each of its frames the count N.
    /// </summary>
    private static List<RuntimeFrame> ReadFrames(List<string> lines, int from)
    {
        var frames = new List<RuntimeFrame>();
        int pendingRepeat = 1, repeat = 1;
        bool inBlock = false;
        for (int i = from; i < lines.Count; i++)
        {
            string line = lines[i].Trim();
            if (line.StartsWith("Repeated ", StringComparison.Ordinal) && line.EndsWith(" times:", StringComparison.Ordinal)
                && int.TryParse(line["Repeated ".Length..^" times:".Length], out int n))
            {
                pendingRepeat = n;
                continue;
            }
            if (line.StartsWith("----", StringComparison.Ordinal))
            {
                // The dashes open the repeated block, then close it.
                inBlock = !inBlock;
                repeat = inBlock ? pendingRepeat : 1;
                continue;
            }
            if (!IsFrame(line))
                continue;
            string method = MethodOf(line);
            if (IsFuzzerFrame(method))
                break;
            // Without a "Repeated" block (the runtime finds none when the overflow hits in a helper),
            // a recursion is thousands of equal lines: one frame with its count.
            if (frames.Count > 0 && frames[^1].Text == line && repeat == 1)
                frames[^1] = frames[^1] with { Repeats = frames[^1].Repeats + 1 };
            else
                frames.Add(new RuntimeFrame(line, method, repeat));
        }
        return frames;
    }

    private static bool IsFrame(string line) => line.TrimStart().StartsWith("at ", StringComparison.Ordinal);

    /// <summary>"at Ns.Type.Method(Int32)" or "... in file:line n" -> "Ns.Type.Method".</summary>
    internal static string MethodOf(string frame)
    {
        string s = frame.Trim()[3..];
        int paren = s.IndexOf('(');
        return paren > 0 ? s[..paren] : s;
    }

    /// <summary>True for "Ns.Type.Method" of a type of this assembly (the executor calling the target).</summary>
    private static bool IsFuzzerFrame(string method)
    {
        int dot = method.LastIndexOf('.');
        return dot > 0 && typeof(RuntimeLastWords).Assembly.GetType(method[..dot]) is not null;
    }
}
