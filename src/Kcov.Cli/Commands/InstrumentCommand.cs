using System.CommandLine;
using Kcov.Instrumentation;

namespace Kcov.Cli.Commands;

/// <summary><c>dotnet kcov instrument &lt;assembly&gt;... [-o DIR] [--trace pc|cmp|pc,cmp] [--include P] [--exclude P] [--exclude-source P] [--no-prune]</c></summary>
internal static class InstrumentCommand
{
    public static Command Create(Streams io)
    {
        var assemblies = new Argument<string[]>("assembly") { Arity = ArgumentArity.OneOrMore, Description = "Assemblies (.dll/.exe) to instrument." };
        var output = new Option<string>("--output", "-o") { Description = "Directory for the instrumented assemblies, their PDBs and PC maps.", DefaultValueFactory = _ => "instrumented" };
        var trace = new Option<string>("--trace") { Description = "What to insert: pc (a call per basic block), cmp (a call per integer comparison and switch), or pc,cmp.", DefaultValueFactory = _ => "pc" };
        var include = new Option<string[]>("--include") { Description = "Only instrument Namespace.Type or Namespace.Type.Method names matching this pattern (*, ?, [abc]); repeatable." };
        var exclude = new Option<string[]>("--exclude") { Description = "Do not instrument names matching this pattern; repeatable." };
        var excludeSource = new Option<string[]>("--exclude-source") { Description = "Do not instrument methods whose source file matches this path pattern (**, *, ?); repeatable." };
        var noPrune = new Option<bool>("--no-prune") { Description = "Probe every basic block. By default blocks whose execution other probed blocks imply get no probe (SanitizerCoverage's pruning); the PC map still lists them." };
        var command = new Command("instrument", "Rewrite assemblies so their basic blocks (and comparisons) call Kcov.Runtime, and write their PC maps.")
        {
            assemblies, output, trace, include, exclude, excludeSource, noPrune,
        };
        command.SetAction(parse =>
        {
            var options = Guard(() => new InstrumentationOptions
            {
                Trace = InstrumentationOptions.ParseTraceModes(parse.GetValue(trace)!),
                Include = parse.GetValue(include) ?? [],
                Exclude = parse.GetValue(exclude) ?? [],
                ExcludeSource = parse.GetValue(excludeSource) ?? [],
                Prune = !parse.GetValue(noPrune),
            });
            string directory = parse.GetValue(output)!;
            foreach (string input in parse.GetValue(assemblies)!)
            {
                var result = Guard(() => AssemblyInstrumenter.Instrument(input, directory, options));
                foreach (string warning in result.Warnings)
                    io.Error.WriteLine("kcov: note: " + warning);
                if (result.MissingSymbols is { } missing)
                    io.Error.WriteLine("kcov: warning: " + missing);
                var s = result.Statistics;
                io.Out.WriteLine($"{Path.GetFileName(input)}: module 0x{result.ModuleId:x8}, {s.Methods} methods, {s.BlockSites} blocks{Implied(s)}, " +
                    $"{s.CmpSites} comparisons, {s.SwitchSites} switches ({s.ExcludedMethods} methods excluded) -> {Relative(result.AssemblyPath)}");
                Guard(() => ApplicationFiles.Complete(input, directory));
            }
            return 0;
        });
        return command;
    }

    private static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (InstrumentationException e)
        {
            throw new UserErrorException(e.Message, e);
        }
    }

    private static void Guard(Action action) => Guard(() => { action(); return 0; });

    /// <summary>" (+N implied)" when pruning left blocks without a probe.</summary>
    internal static string Implied(InstrumentationStatistics s) => s.ImpliedBlocks > 0 ? $" (+{s.ImpliedBlocks} implied)" : "";

    private static string Relative(string path) => Path.GetRelativePath(Environment.CurrentDirectory, path);
}
