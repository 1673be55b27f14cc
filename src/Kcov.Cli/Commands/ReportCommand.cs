using System.CommandLine;
using Kcov.Coverage;
using Kcov.Coverage.Reports;

namespace Kcov.Cli.Commands;

/// <summary>
/// <c>dotnet kcov report [--map DIR] (--pcs FILE | --corpus DIR -- harness.dll [args]) [--format lcov|cobertura|summary] [-o FILE]</c>:
/// the coverage of a PC list, or of a corpus run once through a fuzz harness (<see cref="CorpusRun"/>).
/// </summary>
internal static class ReportCommand
{
    public static Command Create(Streams io)
    {
        var map = new Option<string?>("--map") { Description = "Directory with the .kcovmap files. Default with --corpus: the harness's directory." };
        var pcs = new Option<string?>("--pcs") { Description = "PCs, one hex number per line (- for stdin)." };
        var corpus = new Option<string?>("--corpus")
        {
            Description = "Run every input of this directory once through the fuzz harness given after -- (and its arguments), and report their coverage; no PC trace is written.",
        };
        var timeout = new Option<int>("--timeout") { Description = "With --corpus: seconds an input may run before it is reported as a hang and skipped.", DefaultValueFactory = _ => 60 };
        timeout.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
                r.AddError("--timeout must be at least 1 second");
        });
        var format = new Option<string>("--format") { Description = "lcov, cobertura or summary.", DefaultValueFactory = _ => "summary" };
        format.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is not ("lcov" or "cobertura" or "summary"))
                r.AddError($"--format {r.GetValueOrDefault<string>()} is unknown; use lcov, cobertura or summary");
        });
        var output = new Option<string?>("--output", "-o") { Description = "Write the report here (atomically) instead of stdout." };
        var harness = new Argument<string[]>("harness") { Arity = ArgumentArity.ZeroOrMore, Description = "With --corpus: the instrumented harness (.dll), then its arguments, after --." };
        var command = new Command("report", "Count covered lines, blocks and branches per file, type and method, from PCs or by running a corpus through a fuzz harness, and write lcov, Cobertura or a summary.")
        {
            map, pcs, corpus, timeout, format, output, harness,
        };
        command.Validators.Add(r =>
        {
            bool hasPcs = r.GetValue(pcs) is not null, hasCorpus = r.GetValue(corpus) is not null;
            if (hasPcs == hasCorpus)
                r.AddError("give either --pcs FILE or --corpus DIR -- harness.dll [args]");
            else if (hasCorpus && (r.GetValue(harness) ?? []).Length == 0)
                r.AddError("--corpus needs the harness after --, e.g. dotnet kcov report --corpus corpus -- kcov-fuzz/MyFuzzer.dll");
            else if (hasPcs && r.GetValue(map) is null)
                r.AddError("--pcs needs --map DIR, the directory of the .kcovmap files");
            else if (hasPcs && (r.GetValue(harness) ?? []).Length > 0)
                r.AddError($"unexpected '{r.GetValue(harness)![0]}': a harness is run only with --corpus");
        });
        command.SetAction(parse =>
        {
            string? corpusDir = parse.GetValue(corpus);
            string[] harnessLine = parse.GetValue(harness) ?? [];
            string mapDir = parse.GetValue(map) ?? Path.GetDirectoryName(Path.GetFullPath(harnessLine[0]))!;
            CoverageData data;
            if (corpusDir is null)
            {
                var symbolizer = PcInput.LoadMaps(mapDir);
                var pcList = PcInput.Read(parse.GetValue(pcs), io.In);
                data = CoverageData.FromPcs(symbolizer, pcList);
                CheckMatched(data, pcList.Count, symbolizer, mapDir);
            }
            else
            {
                var inputs = CorpusRun.Inputs(corpusDir);
                CorpusRun.CheckHarness(harnessLine[0]);
                var symbolizer = PcInput.LoadMaps(mapDir);
                var run = new CorpusRun(io, harnessLine[0], harnessLine[1..], parse.GetValue(timeout));
                run.Run(inputs);
                data = CoverageData.FromPcCounts(symbolizer, run.Counts);
                CheckMatched(data, run.Counts.Values.Sum(), symbolizer, mapDir);
                io.Error.WriteLine($"kcov: ran {inputs.Count} inputs of '{corpusDir}'" +
                    (run.Failed > 0 ? $"; {run.Failed} of them crashed or hung (listed above)." : "."));
            }
            Write(io, data, parse.GetValue(format)!, parse.GetValue(output));
            return 0;
        });
        return command;
    }

    /// <summary>PCs of other builds or modules would give an all-zero report that looks like a real one.</summary>
    private static void CheckMatched(CoverageData data, long pcs, Symbolizer symbolizer, string mapDir)
    {
        if (pcs > 0 && data.UnknownPcs == pcs)
            throw new UserErrorException($"none of the {pcs} PCs matches a PC map in '{mapDir}' " +
                $"({string.Join(", ", symbolizer.Maps.Select(m => m.ModuleName))}); pass the --map directory of the instrumented build that produced them.");
    }

    private static void Write(Streams io, CoverageData data, string format, string? path)
    {
        var text = new StringWriter();
        switch (format)
        {
            case "lcov": LcovWriter.Write(data, text); break;
            case "cobertura": CoberturaWriter.Write(data, text, DateTimeOffset.UtcNow.ToUnixTimeSeconds()); break;
            default: SummaryWriter.Write(data, text); break;
        }
        if (path is null)
        {
            io.Out.Write(text.ToString());
            return;
        }
        try
        {
            AtomicFile.WriteAllText(path, text.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"Cannot write '{path}' ({e.Message}).", e);
        }
    }
}
