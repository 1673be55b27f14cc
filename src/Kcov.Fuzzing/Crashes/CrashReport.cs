using System.Diagnostics;
using System.Text;

namespace Kcov.Fuzzing.Crashes;

/// <summary>
/// What went wrong with one input: kind, a title (exception type and message, or the runtime's
/// last words), the target's stack (file:line from the target's PDB), and a signature for
/// deduplication: the kind of failure plus the top frames of the target's own code.
/// The same text is printed by the campaign and by reproduce mode.
/// </summary>
internal sealed partial class CrashReport(ArtifactKind kind, string title, IReadOnlyList<string> frames, string signature)
{
    private const int SignatureFrames = 3;
    private const int MaxHexBytes = 4096;

    public ArtifactKind Kind { get; } = kind;
    public string Title { get; } = title;
    public IReadOnlyList<string> Frames { get; } = frames;
    public string Signature { get; } = signature;

    /// <summary>
    /// What findings are deduplicated on: for a managed exception whose throwing block is known (the last
    /// block of the input's kcov trace when it was thrown), the exception type and that block, so one
    /// bug reached from several callers, or in a process whose JIT inlined differently, is one finding.
    /// Otherwise the <see cref="Signature"/>.
    /// </summary>
    public string DedupKey { get; private init; } = signature;

    /// <summary>The throwing block, symbolized ("0x... Function file:line"), or null when not known.</summary>
    public string? Site { get; private init; }

    /// <summary>
    /// The last blocks the input ran, from the kcov area of a dead executor, symbolized with the PC
    /// maps ("   0x... Function file:line"); empty for a managed exception, whose stack says more.
    /// </summary>
    public IReadOnlyList<string> LastBlocks { get; private init; } = [];

    public CrashReport WithLastBlocks(IReadOnlyList<string> blocks) =>
        new(Kind, Title, Frames, Signature) { LastBlocks = blocks, DedupKey = DedupKey, Site = Site };

    /// <summary>
    /// A managed exception the target threw (caught in the executor); <paramref name="site"/> is the PC of
    /// the block that threw it (<see cref="Executor.TargetRunner.ThrowSite"/>), 0 if not known.
    /// </summary>
    public static CrashReport FromException(Exception e, ulong site = 0)
    {
        var report = FromStack(e);
        return site == 0 ? report : new CrashReport(report.Kind, report.Title, report.Frames, report.Signature)
        {
            DedupKey = $"{e.GetType().FullName} at {ThrowSite.Describe(site)}",
            Site = ThrowSite.DescribeLong(site),
        };
    }

    private static CrashReport FromStack(Exception e)
    {
        if (e is Service.ServiceFaultException fault)
            return FromServiceFault(fault.Reports[0]);
        var kind = e is OutOfMemoryException
            ? ArtifactKind.Oom : ArtifactKind.Crash;
        var frames = new List<string>();
        var methods = new List<string>();
        foreach (var frame in new StackTrace(e, fNeedFileInfo: true).GetFrames())
        {
            var method = frame.GetMethod();
            var type = method?.DeclaringType;
            // The fuzzer's own frames (the executor calling the target) are not the target's stack.
            if (method is null || type?.Assembly == typeof(CrashReport).Assembly)
                continue;
            string name = $"{type?.FullName}.{method.Name}";
            string parameters = string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name));
            string where = frame.GetFileName() is { } file ? $" in {file}:line {frame.GetFileLineNumber()}" : "";
            frames.Add($"   at {name}({parameters}){where}");
            methods.Add(name);
        }
        string title = $"{e.GetType().FullName}: {e.Message}";
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            title += $"{Environment.NewLine} ---> {inner.GetType().FullName}: {inner.Message}";
        return new CrashReport(kind, title, frames, MakeSignature(e.GetType().FullName!, methods));
    }

    /// <summary>
    /// A fault a service met in the work of an input, as its control endpoint reported it: where
    /// (e.g. "queued work: Job") on the first line, then the exception's text, whose frames are the
    /// service's. The signature is built from those frames as for an exception thrown here.
    /// </summary>
    public static CrashReport FromServiceFault(string report)
    {
        var lines = report.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        string where = lines[0];
        string exception = lines.Count > 1 ? lines[1] : "";
        var frames = Collapse(lines.Skip(2).Where(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal)));
        var methods = frames.Select(FrameMethod).Distinct().ToList();
        int colon = exception.IndexOf(':');
        string type = colon > 0 ? exception[..colon] : exception.Length > 0 ? exception : "ServiceFault";
        return new CrashReport(ArtifactKind.Crash, $"{exception} (in the service, {where})", frames, MakeSignature(type, methods));
    }

    /// <summary>The first line of the runtime's report of a fatal error, and the kind it names.</summary>
    private static readonly (string Marker, string What)[] FatalMarkers =
    [
        ("Stack overflow.", "StackOverflow"),
        ("Process terminated.", "FailFast"),
        ("Unhandled exception.", "UnhandledException"),
        ("Fatal error.", "FatalError"),
    ];

    /// <summary>True for the line with which the runtime starts a fatal report on stderr.</summary>
    public static bool IsFatalMarker(string line) => FatalMarkers.Any(m => line.StartsWith(m.Marker, StringComparison.Ordinal));

    /// <summary>
    /// An executor died: stack overflow, FailFast, an exception on another thread, a signal.
    /// The runtime's last words on its stderr carry the kind and the frames.
    /// </summary>
    public static CrashReport FromDeath(string stderr, int exitCode)
    {
        var lines = stderr.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        foreach (var (marker, what) in FatalMarkers)
        {
            int at = lines.FindLastIndex(l => l.StartsWith(marker, StringComparison.Ordinal));
            if (at < 0)
                continue;
            // The target's frames end where the executor's begin (an exception's stack ends there too).
            var frames = Collapse(lines.Skip(at + 1)
                .Where(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal))
                .TakeWhile(l => !IsFuzzerFrame(FrameMethod(l))));
            var methods = frames.Select(FrameMethod).Distinct().ToList();
            // The runtime's own message follows the marker: the exception, or FailFast's text.
            string title = what == "FailFast" && at + 1 < lines.Count && !lines[at + 1].TrimStart().StartsWith("at ", StringComparison.Ordinal)
                ? $"{lines[at]} {lines[at + 1].Trim()}" : lines[at];
            string kindName = what == "UnhandledException" ? ExceptionType(lines, at) : what;
            return new CrashReport(ArtifactKind.Crash, title, frames, MakeSignature(kindName, methods));
        }
        string signal = exitCode > 128 ? $" (signal {exitCode - 128})" : "";
        return new CrashReport(ArtifactKind.Crash, $"deadly signal: the executor exited with code {exitCode}{signal}", [], $"Exit{exitCode}");
    }

    /// <summary>A hang; <paramref name="loop"/> is the loop its last blocks show (LastBlocks.Loop), the signature's state.</summary>
    public static CrashReport Timeout(int seconds, string? loop = null, string? howStopped = null) =>
        new(ArtifactKind.Timeout, howStopped ?? $"timeout: the input ran longer than -timeout={seconds} seconds", [],
            loop is null ? "Timeout" : $"Timeout <- {loop}");

    /// <summary>
    /// The executor wrote garbage where the supervisor reads (the control block, its socket): the
    /// target corrupts memory it does not own, or the harness does not speak the protocol.
    /// </summary>
    public static CrashReport Garbage(string what) =>
        new(ArtifactKind.Crash, $"the executor was killed for writing garbage: {what} (does the target corrupt memory it does not own?)", [], "ExecutorGarbage");

    /// <summary>
    /// The executor found its control block's header overwritten when an input returned: the target
    /// corrupts memory it does not own. The executor repairs the header and goes on.
    /// </summary>
    public static CrashReport ControlBlockOverwritten(string what) =>
        new(ArtifactKind.Crash, $"the input made the target overwrite the fuzzer's control block ({what}): it corrupts memory it does not own", [], "ControlBlockOverwritten");

    public static CrashReport OutOfMemory(long rssMb, int limitMb) =>
        new(ArtifactKind.Oom, $"out-of-memory: the executor's RSS reached {rssMb} Mb (-rss_limit_mb={limitMb})", [], "OutOfMemory.Rss");

    /// <summary>The report text: header, stack, summary and the input in hex.</summary>
    public string Render(ReadOnlySpan<byte> input)
    {
        var text = new StringBuilder();
        text.AppendLine($"==ERROR: Kcov.Fuzzing: {Title}");
        foreach (var frame in Frames)
            text.AppendLine(frame);
        if (Site is not null)
            text.AppendLine($"Thrown in block (last block of the kcov trace): {Site}");
        if (LastBlocks.Count > 0)
        {
            text.AppendLine("Last blocks run (kcov area, oldest first):");
            foreach (var block in LastBlocks)
                text.AppendLine(block);
        }
        text.AppendLine($"SUMMARY: Kcov.Fuzzing: {KindName} {Signature}");
        text.AppendLine($"INPUT: {input.Length} bytes");
        AppendHex(text, input);
        return text.ToString();
    }

    /// <summary>The artifact prefix: crash, timeout or oom.</summary>
    public string KindName => Prefix(Kind);

    public static string Prefix(ArtifactKind kind) => kind switch { ArtifactKind.Timeout => "timeout", ArtifactKind.Oom => "oom", _ => "crash" };

    /// <summary>
    /// Frames of the runtimes, not of the target: .NET's (CoreLib's throw helpers live in Internal.*),
    /// kcov's trace entry points, which instrumented code calls in every block, and Kcov.AspNetCore's
    /// middleware and queue, which call a service's code.
    /// </summary>
    private static readonly string[] RuntimeNamespaces = ["System.", "Microsoft.", "Internal.", "Kcov.Trace.", "Kcov.TraceCalls.", "Kcov.Remote.", "Kcov.AspNetCore."];

    /// <summary>At most this many frames in a report (a stack overflow has thousands).</summary>
    private const int MaxFrames = 40;

    /// <summary>Consecutive repeats of a line become one line with a count; at most <see cref="MaxFrames"/> lines.</summary>
    internal static List<string> Collapse(IEnumerable<string> frames)
    {
        var result = new List<string>();
        string? previous = null;
        int repeats = 0;
        void Flush()
        {
            if (previous is not null && result.Count < MaxFrames)
                result.Add(repeats > 1 ? $"{previous}  (x{repeats})" : previous);
        }
        foreach (var frame in frames)
        {
            if (frame == previous)
            {
                repeats++;
                continue;
            }
            Flush();
            previous = frame;
            repeats = 1;
        }
        Flush();
        return result;
    }

    private static string MakeSignature(string what, List<string> methods)
    {
        methods = methods.Select(SourceMethod).Distinct().ToList();
        // Skip the runtime's frames (ThrowHelper, Span indexers...) to reach the target's code.
        var own = methods.Where(m => !RuntimeNamespaces.Any(ns => m.StartsWith(ns, StringComparison.Ordinal))).ToList();
        var top = (own.Count > 0 ? own : methods).Take(SignatureFrames);
        return string.Join(" <- ", top.Prepend(what));
    }

    /// <summary>
    /// The source method a frame belongs to, as the signature names it: an async state machine's
    /// MoveNext is its async method, a lambda or local function is the method it is written in.
    /// Whether such frames show up depends on the JIT's inlining (tiering, PGO), so a signature
    /// that named them as they are would split one bug into several.
    /// </summary>
    private static string SourceMethod(string method)
    {
        var asyncMethod = AsyncStateMachine().Match(method);
        if (asyncMethod.Success)
            return $"{asyncMethod.Groups[1].Value}.{asyncMethod.Groups[2].Value}";
        var closure = Closure().Match(method);
        return closure.Success ? $"{closure.Groups[1].Value}.{closure.Groups[2].Value}" : method;
    }

    /// <summary>Ns.Type+&lt;Run&gt;d__0.MoveNext (exception texts write nested types with '.', not '+').</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^(.*)[+.]<([^>]+)>d__\d+\.MoveNext$")]
    private static partial System.Text.RegularExpressions.Regex AsyncStateMachine();

    /// <summary>Ns.Type+&lt;&gt;c.&lt;Run&gt;b__2_0, Ns.Type+&lt;&gt;c__DisplayClass0_0.&lt;Run&gt;b__0, Ns.Type.&lt;Run&gt;g__Local|0_0</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^(.*?)(?:[+.]<>c(?:__DisplayClass[\d_]+)?)?\.<([^>]+)>[bg]__.*$")]
    private static partial System.Text.RegularExpressions.Regex Closure();

    /// <summary>"   at Ns.Type.Method(Int32)" or "... in file:line n" (or "... (x12)") -> "Ns.Type.Method".</summary>
    private static string FrameMethod(string line)
    {
        string s = line.Trim()[3..];
        int paren = s.IndexOf('(');
        return paren > 0 ? s[..paren] : s;
    }

    /// <summary>True for "Ns.Type.Method" of a type of this assembly (the executor calling the target).</summary>
    private static bool IsFuzzerFrame(string method)
    {
        int dot = method.LastIndexOf('.');
        return dot > 0 && typeof(CrashReport).Assembly.GetType(method[..dot]) is not null;
    }

    /// <summary>"Unhandled exception. System.FormatException: text" (the type may also start the next line).</summary>
    private static string ExceptionType(List<string> lines, int at)
    {
        string rest = lines[at]["Unhandled exception.".Length..].Trim();
        if (rest.Length == 0 && at + 1 < lines.Count && !lines[at + 1].TrimStart().StartsWith("at ", StringComparison.Ordinal))
            rest = lines[at + 1].Trim();
        int colon = rest.IndexOf(':');
        return colon > 0 ? rest[..colon] : rest.Length > 0 ? rest : "UnhandledException";
    }

    private static void AppendHex(StringBuilder text, ReadOnlySpan<byte> input)
    {
        int n = Math.Min(input.Length, MaxHexBytes);
        for (int row = 0; row < n; row += 16)
        {
            text.Append(row.ToString("x8", System.Globalization.CultureInfo.InvariantCulture)).Append("  ");
            var ascii = new StringBuilder();
            for (int i = row; i < row + 16; i++)
            {
                if (i < n)
                {
                    text.Append(input[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture)).Append(' ');
                    ascii.Append(input[i] is >= 0x20 and < 0x7f ? (char)input[i] : '.');
                }
                else
                {
                    text.Append("   ");
                }
            }
            text.Append(" |").Append(ascii).AppendLine("|");
        }
        if (n < input.Length)
            text.AppendLine($"... {input.Length - n} more bytes");
    }
}
