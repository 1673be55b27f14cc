using System.CommandLine;

namespace Kcov.Cli.Commands;

/// <summary><c>dotnet kcov symbolize --map DIR [FILE]</c>: addr2line for kcov PCs (function line, then file:line line, per PC).</summary>
internal static class SymbolizeCommand
{
    public static Command Create(Streams io)
    {
        var map = new Option<string>("--map") { Description = "Directory with the .kcovmap files (the -o directory of dotnet kcov instrument).", Required = true };
        var file = new Argument<string?>("file") { Arity = ArgumentArity.ZeroOrOne, Description = "PCs, one hex number per line (default: stdin)." };
        var command = new Command("symbolize", "Print the function and file:line of each PC, as addr2line -f does.") { map, file };
        command.SetAction(parse =>
        {
            var symbolizer = PcInput.LoadMaps(parse.GetValue(map)!);
            foreach (ulong pc in PcInput.Read(parse.GetValue(file), io.In))
                io.Out.WriteLine(symbolizer.Symbolize(pc).ToAddr2Line());
            return 0;
        });
        return command;
    }
}
