using System.CommandLine;
using Kcov.Coverage;
using Kcov.Coverage.Reports;

namespace Kcov.Cli.Commands;

/// <summary><c>dotnet kcov report --map DIR --pcs FILE [--format lcov|cobertura|summary] [-o FILE]</c></summary>
internal static class ReportCommand
{
    public static Command Create(Streams io)
    {
        var map = new Option<string>("--map") { Description = "Directory with the .kcovmap files.", Required = true };
        var pcs = new Option<string>("--pcs") { Description = "PCs, one hex number per line (- for stdin).", Required = true };
        var format = new Option<string>("--format") { Description = "lcov, cobertura or summary.", DefaultValueFactory = _ => "summary" };
        format.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is not ("lcov" or "cobertura" or "summary"))
                r.AddError($"--format {r.GetValueOrDefault<string>()} is unknown; use lcov, cobertura or summary");
        });
        var output = new Option<string?>("--output", "-o") { Description = "Write the report here (atomically) instead of stdout." };
        var command = new Command("report", "Count covered blocks per file, type and method, and write lcov, Cobertura or a summary.")
        {
            map, pcs, format, output,
        };
        command.SetAction(parse =>
        {
            var symbolizer = PcInput.LoadMaps(parse.GetValue(map)!);
            var pcList = PcInput.Read(parse.GetValue(pcs), io.In);
            var data = CoverageData.FromPcs(symbolizer, pcList);
            // PCs of other builds or modules would give an all-zero report that looks like a real one.
            if (pcList.Count > 0 && data.UnknownPcs == pcList.Count)
                throw new UserErrorException($"none of the {pcList.Count} PCs matches a PC map in '{parse.GetValue(map)}' " +
                    $"({string.Join(", ", symbolizer.Maps.Select(m => m.ModuleName))}); pass the --map directory of the instrumented build that produced them.");
            var text = new StringWriter();
            switch (parse.GetValue(format))
            {
                case "lcov": LcovWriter.Write(data, text); break;
                case "cobertura": CoberturaWriter.Write(data, text, DateTimeOffset.UtcNow.ToUnixTimeSeconds()); break;
                default: SummaryWriter.Write(data, text); break;
            }
            string? path = parse.GetValue(output);
            if (path is null)
                io.Out.Write(text.ToString());
            else
            {
                try
                {
                    AtomicFile.WriteAllText(path, text.ToString());
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new UserErrorException($"Cannot write '{path}' ({e.Message}).", e);
                }
            }
            return 0;
        });
        return command;
    }
}
