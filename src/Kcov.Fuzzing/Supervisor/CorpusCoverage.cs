using System.Globalization;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// The harness's side of <c>dotnet kcov report --corpus DIR</c>: runs each input of a list once
/// through the target under its own kcov device (trace-pc, the area reset per input as in a
/// campaign, so a corpus of any size never fills it) and sends, per input, each PC it ran with the
/// number of times it ran: no PC trace is written anywhere. An exception is reported and the next
/// input runs. A hang, a stack overflow or a FailFast ends this process: <c>dotnet kcov report</c>
/// (which reads the protocol, keeps the time and restarts the harness after that input) reports it.
/// <para>
/// The protocol is the process's standard output, one line each: <c>run I</c>, then <c>pc HEX COUNT</c>
/// per distinct PC, <c>full I</c> when the input filled the area (its later PCs were lost),
/// <c>crash I TEXT</c> when it threw, <c>done I</c>; <c>end</c> after the last input. The target's own
/// Console output goes to standard error instead, so it cannot mix with the protocol.
/// </para>
/// </summary>
internal static class CorpusCoverage
{
    /// <summary>Set by <c>dotnet kcov report --corpus</c>: a file listing the input files, one path per line.</summary>
    public const string InputsVariable = "KCOV_REPORT_INPUTS";

    public static string? InputList => Environment.GetEnvironmentVariable(InputsVariable) is { Length: > 0 } list ? list : null;

    public static int Run(FuzzerOptions options, FuzzTarget target, string inputList)
    {
        var protocol = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false, NewLine = "\n" };
        Console.SetOut(Console.Error);
        string[] files = File.ReadAllLines(inputList);
        var counts = new Dictionary<ulong, long>();
        using var runner = new TargetRunner(target, options.AreaWords);
        for (int i = 0; i < files.Length; i++)
        {
            byte[] input = CorpusDirectory.ReadInput(files[i]);
            // Flushed before the target runs: if it never returns, the reader knows which input it was.
            protocol.Write($"run {i}\n");
            protocol.Flush();
            var exception = runner.Run(input);
            var area = runner.Area;
            ulong count = Math.Min(area[0], (ulong)area.Length - 1);
            counts.Clear();
            for (int k = 1; k <= (int)count; k++)
                counts[area[k]] = counts.GetValueOrDefault(area[k]) + 1;
            foreach (var (pc, n) in counts)
                protocol.Write($"pc {pc.ToString("x", CultureInfo.InvariantCulture)} {n}\n");
            if (count == (ulong)area.Length - 1)
                protocol.Write($"full {i}\n");
            if (exception is not null)
                protocol.Write($"crash {i} {CrashReport.FromException(exception).Title.ReplaceLineEndings(" ")}\n");
            protocol.Write($"done {i}\n");
        }
        protocol.Write("end\n");
        protocol.Flush();
        return 0;
    }
}
