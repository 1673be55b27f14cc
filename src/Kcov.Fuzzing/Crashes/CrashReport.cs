using System.Diagnostics;
using System.Text;

namespace Kcov.Fuzzing.Crashes;

/// <summary>
/// What went wrong with one input: kind, a title (the first line of the report), the target's
/// stack (file:line from the target's PDB), and a signature for deduplication: the kind of
/// failure plus the top frames of the target's own code. The same text is printed by the
/// campaign, reproduce mode, merge and minimization.
/// <para>
/// The first line is libFuzzer's (<c>==ERROR: libFuzzer: timeout after ...</c>), or for what
/// libFuzzer has no words for (a .NET exception, a stack overflow) a line in words ClusterFuzz's
/// stack parser classifies, saying that the target is .NET: see docs/clusterfuzz.md for each
/// line and what ClusterFuzz makes of it. Frames of the target's own code are printed as .NET
/// prints them (<c>   at Ns.Type.Method(...) in file:line n</c>); frames of the runtime are
/// marked <c>(runtime)</c>, so that a crash state made of the top frames names the target.
/// </para>
/// </summary>
internal sealed partial class CrashReport(ArtifactKind kind, string title, IReadOnlyList<string> frames, string signature)
{
    private const int SignatureFrames = 3;
    private const int MaxHexBytes = 4096;

    /// <summary>At most this many frames in a report (a deep recursion has thousands).</summary>
    private const int MaxFrames = 40;

    /// <summary>The exception code (HRESULT) of System.StackOverflowException, COR_E_STACKOVERFLOW.</summary>
    private const uint StackOverflowExceptionCode = 0x800703E9;

    public ArtifactKind Kind { get; } = kind;

    /// <summary>The report's first line after <c>==ERROR: libFuzzer: </c>.</summary>
    public string Title { get; } = title;

    /// <summary>The stack, innermost first, as printed.</summary>
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
    /// maps (see <see cref="Supervisor.LastBlocks"/>); empty for a managed exception, whose stack says more.
    /// </summary>
    public IReadOnlyList<string> LastBlocks { get; private init; } = [];

    /// <summary>Whether <see cref="LastBlocks"/> came from a unique-mode trace (-kcov_unique): blocks in first-hit order, each once.</summary>
    public bool LastBlocksFirstHits { get; private init; }

    public CrashReport WithLastBlocks(IReadOnlyList<string> blocks, bool firstHits = false) =>
        new(Kind, Title, Frames, Signature) { LastBlocks = blocks, LastBlocksFirstHits = firstHits, DedupKey = DedupKey, Site = Site };

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
        var kind = e is OutOfMemoryException ? ArtifactKind.Oom : ArtifactKind.Crash;
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
            frames.Add(FrameLine($"at {name}({parameters}){where}", IsRuntimeFrame(name, type?.Assembly)));
            methods.Add(name);
        }
        string type0 = e.GetType().FullName!;
        string title = kind == ArtifactKind.Oom
            ? $"out-of-memory ({type0} in the .NET target: {e.Message})"
            : $"FATAL EXCEPTION in the .NET target: {type0}: {e.Message}";
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            title += $"{Environment.NewLine} ---> {inner.GetType().FullName}: {inner.Message}";
        return new CrashReport(kind, title, Cap(frames), MakeSignature(type0, methods));
    }

    /// <summary>
    /// A fault a service met in the work of an input, as its control endpoint reported it: where
    /// (e.g. "queued work: Job") on the first line, then the exception's text, whose frames are the
    /// service's. Reported as an exception of the target, saying where; the signature is built from
    /// those frames as for an exception thrown here.
    /// </summary>
    public static CrashReport FromServiceFault(string report)
    {
        var lines = report.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        string where = lines[0];
        string exception = lines.Count > 1 ? lines[1] : "";
        var stack = lines.Skip(2).Select(l => l.Trim()).Where(l => l.StartsWith("at ", StringComparison.Ordinal)).ToList();
        var methods = stack.Select(RuntimeLastWords.MethodOf).ToList();
        var frames = stack.Select((f, i) => FrameLine(f, IsRuntimeFrame(methods[i], null))).ToList();
        int colon = exception.IndexOf(':');
        string type = colon > 0 ? exception[..colon] : exception.Length > 0 ? exception : "ServiceFault";
        return new CrashReport(ArtifactKind.Crash, $"FATAL EXCEPTION in the .NET target (in the service, {where}): {exception}",
            Cap(frames), MakeSignature(type, methods.Distinct().ToList()));
    }

    /// <summary>True for the line with which the runtime starts a fatal report on stderr.</summary>
    public static bool IsFatalMarker(string line) => RuntimeLastWords.IsMarker(line);

    /// <summary>
    /// An executor died: stack overflow, FailFast, an exception on another thread, a signal, an
    /// exit. The runtime's last words on its stderr carry the kind and the frames.
    /// </summary>
    public static CrashReport FromDeath(string stderr, int exitCode)
    {
        if (RuntimeLastWords.Parse(stderr) is not { } words)
        {
            string ended = exitCode > 128
                ? $"deadly signal (the executor was ended by signal {exitCode - 128})"
                : $"fuzz target exited (the .NET target ended the process with exit code {exitCode})";
            return new CrashReport(ArtifactKind.Crash, ended, [], $"Exit{exitCode}");
        }
        var frames = words.Frames.Select(f =>
            FrameLine(f.Text, IsRuntimeFrame(f.Method, null)) + (f.Repeats > 1 ? $"  [x{f.Repeats}]" : "")).ToList();
        // A stack overflow is signed by its recursion alone, in name order: the runtime prints it either as
        // a "Repeated N times" block followed by the callers, or (when the overflow hits in a helper) as
        // thousands of frames whose callers fall outside what is kept; both must give one signature.
        var methods = words.Kind == FatalKind.StackOverflow && words.Frames.Any(f => f.Repeats > 1)
            ? words.Frames.Where(f => f.Repeats > 1).Select(f => f.Method).Distinct().Order(StringComparer.Ordinal).ToList()
            : words.Frames.Select(f => f.Method).Distinct().ToList();
        (string title, string what) = words.Kind switch
        {
            FatalKind.StackOverflow => ($"stack overflow in the .NET target (ExceptionCode: 0x{StackOverflowExceptionCode:X8} (Stack overflow)); the runtime ended the process", "StackOverflow"),
            FatalKind.FailFast => ($"deadly signal (Environment.FailFast in the .NET target: {words.Message}; the runtime aborted the process)", "FailFast"),
            FatalKind.UnhandledException => ($"FATAL EXCEPTION in the .NET target, unhandled on a thread of its own: {words.Message}", words.ExceptionType),
            _ => ($"deadly signal ({words.FirstLine} the .NET runtime failed and aborted the process)", "FatalError"),
        };
        return new CrashReport(ArtifactKind.Crash, title, Cap(frames), MakeSignature(what, methods));
    }

    /// <summary>
    /// A hang: the input ran <paramref name="seconds"/> (-timeout, unless <paramref name="why"/> says
    /// which shorter limit stopped it); <paramref name="loop"/> is the loop its last blocks show
    /// (LastBlocks.Loop), the signature's state.
    /// </summary>
    public static CrashReport Timeout(double seconds, string? loop = null, string? why = null)
    {
        string s = seconds.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
        return new(ArtifactKind.Timeout, $"timeout after {s} seconds ({why ?? $"the input ran longer than -timeout={s}"})", [],
            loop is null ? "Timeout" : $"Timeout <- {loop}");
    }

    /// <summary>
    /// The executor wrote garbage where the supervisor reads (the control block, its socket): the
    /// target corrupts memory it does not own, or the harness does not speak the protocol.
    /// </summary>
    public static CrashReport Garbage(string what) =>
        new(ArtifactKind.Crash, $"deadly signal (the executor was killed for writing garbage: {what}; does the target corrupt memory it does not own?)", [], "ExecutorGarbage");

    /// <summary>
    /// The executor found its control block's header overwritten when an input returned: the target
    /// corrupts memory it does not own (the executor repairs the header and goes on). The second line
    /// is the check that failed, in the words ClusterFuzz classifies as a failed assertion (a security
    /// issue by default).
    /// </summary>
    public static CrashReport ControlBlockOverwritten(string what) =>
        new(ArtifactKind.Crash, $"memory corruption in the .NET target: the input made it overwrite the fuzzer's control block ({what})",
            ["   assertion failed: the fuzzer's control block is as the fuzzer wrote it"], "ControlBlockOverwritten");

    public static CrashReport OutOfMemory(long rssMb, int limitMb) =>
        new(ArtifactKind.Oom, $"out-of-memory (used: {rssMb}Mb; exceeds: {limitMb}Mb; the executor's RSS, read from /proc)", [], "OutOfMemory.Rss");

    /// <summary>The report text: header, stack, last blocks, summary and the input in hex.</summary>
    public string Render(ReadOnlySpan<byte> input)
    {
        var text = new StringBuilder();
        text.AppendLine($"==ERROR: libFuzzer: {Title}");
        foreach (var frame in Frames)
            text.AppendLine(frame);
        if (Site is not null)
            text.AppendLine($"Thrown in block (last block of the kcov trace): {Site}");
        if (LastBlocks.Count > 0)
        {
            text.AppendLine(LastBlocksFirstHits
                ? "Last blocks reached for the first time (kcov unique mode: each block once, newest first; a loop's turns do not show):"
                : "Last blocks run (kcov area, newest first):");
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
    private static readonly string[] RuntimeNamespaces = ["System.", "Microsoft.", "Internal.", "Kcov.Trace.", "Kcov.TraceCalls.", "Kcov.Remote.", "Kcov.RemoteSection.", "Kcov.AspNetCore."];

    /// <summary>
    /// A frame as printed: the target's own frames as .NET prints them, the runtime's marked
    /// "(runtime)", which keeps them out of the "at X(...)" frames ClusterFuzz builds its crash state from.
    /// </summary>
    private static string FrameLine(string frame, bool runtime) => runtime ? $"   (runtime) {frame}" : $"   {frame}";

    /// <summary>
    /// Whether a frame is the runtime's rather than the target's: .NET's and Kcov's namespaces,
    /// unless its assembly is instrumented (references Kcov.Runtime: a System.* or Microsoft.*
    /// package being fuzzed is the target). Only the name is known for a frame the runtime printed.
    /// </summary>
    private static bool IsRuntimeFrame(string method, System.Reflection.Assembly? assembly)
    {
        if (assembly is not null)
        {
            if (assembly == typeof(global::Kcov.Trace).Assembly)
                return true;
            if (InstrumentedAssemblies.GetOrAdd(assembly, a => a.GetReferencedAssemblies().Any(r => r.Name == "Kcov.Runtime")))
                return false;
        }
        return RuntimeNamespaces.Any(ns => method.StartsWith(ns, StringComparison.Ordinal));
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<System.Reflection.Assembly, bool> InstrumentedAssemblies = new();

    /// <summary>At most <see cref="MaxFrames"/> frames, and a line saying how many more there were.</summary>
    private static List<string> Cap(List<string> frames) =>
        frames.Count <= MaxFrames ? frames : [.. frames.Take(MaxFrames), $"   ... {frames.Count - MaxFrames} more frames"];

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

    private static void AppendHex(StringBuilder text, ReadOnlySpan<byte> input)
    {
        int n = Math.Min(input.Length, MaxHexBytes);
        for (int row = 0; row < n; row += 16)
        {
            // Indented: a line that starts with a number could read as a stack frame to log parsers.
            text.Append("  ").Append(row.ToString("x8", System.Globalization.CultureInfo.InvariantCulture)).Append("  ");
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
            text.AppendLine($"  ... {input.Length - n} more bytes");
    }
}
