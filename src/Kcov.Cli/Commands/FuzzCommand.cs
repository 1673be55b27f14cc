using System.CommandLine;
using System.Diagnostics;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Kcov.Coverage;
using Kcov.Instrumentation;

namespace Kcov.Cli.Commands;

/// <summary>
/// <c>dotnet kcov fuzz &lt;harness.dll&gt; [--instrument A.dll]... [-o DIR] [libFuzzer flags] [CORPUS_DIR | FILE]...</c>:
/// instruments the code a fuzz harness tests (trace-pc and trace-cmp) into DIR, completes it into a
/// runnable application, and runs the harness from there with the libFuzzer command line, which
/// passes through untouched. The harness (a program whose Main calls Kcov.Fuzzing.Fuzzer.Run) is
/// the fuzzer; this verb only saves the instrument-then-run step.
/// </summary>
internal static class FuzzCommand
{
    /// <summary>Assemblies next to a harness that are the fuzzer's or the framework's, never a target.</summary>
    private static readonly HashSet<string> KcovAssemblies = ["Kcov.Runtime", "Kcov.Fuzzing", "Kcov.Coverage", "Kcov.Instrumentation", "dotnet-kcov", "Kcov.Control", "Kcov.AspNetCore"];

    private static readonly string[] FrameworkPrefixes = ["Spectre.Console", "System.", "Microsoft."];

    public static Command Create(Streams io)
    {
        var harness = new Argument<string>("harness") { Description = "The fuzz harness (.dll) whose Main calls Kcov.Fuzzing.Fuzzer.Run." };
        var instrument = new Option<string[]>("--instrument")
        {
            Description = "An assembly to instrument (file name next to the harness, or a path); repeatable. Default: the assemblies the harness references directly, except Kcov's and the framework's.",
        };
        var output = new Option<string?>("--output", "-o") { Description = "Directory for the instrumented application. Default: kcov-fuzz/ next to the harness." };
        var command = new Command("fuzz", "Instrument a fuzz harness's targets and run it: the harness takes libFuzzer's flags (-runs=N, -max_len=N, -dict=F, -fork=N, -merge=1, ...), corpus directories and input files, after its path. "
            + "Unlike the harness run by itself (libFuzzer's default: stop at the first finding), dotnet kcov fuzz keeps a campaign going after crashes, timeouts and out-of-memory inputs, saving each new one, unless a -ignore_crashes/-ignore_timeouts/-ignore_ooms flag is given.")
        {
            harness, instrument, output,
        };
        // libFuzzer's flags (-runs=100) and the corpus are the harness's: they pass through as they are.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse => Run(io, parse.GetValue(harness)!, parse.GetValue(instrument) ?? [], parse.GetValue(output), [.. parse.UnmatchedTokens]));
        return command;
    }

    private static int Run(Streams io, string harness, string[] instrument, string? output, string[] fuzzerArgs)
    {
        if (!File.Exists(harness) || !harness.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            throw new UserErrorException($"'{harness}' is not a harness .dll; build the harness and pass its .dll (e.g. bin/Release/net10.0/MyFuzzer.dll).");
        string harnessDir = Path.GetDirectoryName(Path.GetFullPath(harness))!;
        string outputDir = Path.GetFullPath(output ?? Path.Combine(harnessDir, "kcov-fuzz"));
        var references = References(harness);
        // An ordinary program would just run, uninstrumented, and exit 0 as if it had fuzzed.
        if (!references.Contains("Kcov.Fuzzing"))
            throw new UserErrorException($"'{harness}' is not a fuzz harness (it does not reference Kcov.Fuzzing); " +
                "its Main must return Kcov.Fuzzing.Fuzzer.Run(args, target) (package Kcov.Fuzzing).");
        var targets = instrument.Length > 0
            ? instrument.Select(t => File.Exists(t) ? t : Path.Combine(harnessDir, t)).ToList()
            : DefaultTargets(references, harnessDir);
        if (targets.Count == 0)
            throw new UserErrorException($"'{harness}' references no assembly to instrument; name the code under test with --instrument Target.dll.");
        var options = new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp };
        Directory.CreateDirectory(outputDir);
        foreach (string target in targets)
        {
            if (!File.Exists(target))
                throw new UserErrorException($"'{target}' does not exist; --instrument takes an assembly next to the harness or a path.");
            if (InstrumentedMap(target) is { } map)
            {
                // Kcov.MSBuild (or dotnet kcov instrument) already did it: run that build as it is.
                foreach (string file in new[] { target, Path.ChangeExtension(target, ".pdb"), PcMap.PathFor(target) }.Where(File.Exists))
                    AtomicFile.Copy(file, Path.Combine(outputDir, Path.GetFileName(file)));
                io.Error.WriteLine($"kcov: {Path.GetFileName(target)} is already instrumented (trace {(map.TracePc ? "pc" : "")}{(map.TracePc && map.TraceCmp ? "," : "")}{(map.TraceCmp ? "cmp" : "")}): used as it is");
                continue;
            }
            try
            {
                var result = AssemblyInstrumenter.Instrument(target, outputDir, options);
                if (result.MissingSymbols is { } missing)
                    io.Error.WriteLine("kcov: warning: " + missing);
                io.Error.WriteLine($"kcov: instrumented {Path.GetFileName(target)}: {result.Statistics.BlockSites} blocks{InstrumentCommand.Implied(result.Statistics)}, {result.Statistics.CmpSites} comparisons");
            }
            catch (InstrumentationException e)
            {
                throw new UserErrorException(e.Message, e);
            }
        }
        try
        {
            ApplicationFiles.Complete(harness, outputDir);
            CopyHarness(harness, outputDir);
        }
        catch (InstrumentationException e)
        {
            throw new UserErrorException(e.Message, e);
        }
        return RunHarness(io, Path.Combine(outputDir, Path.GetFileName(harness)), KeepGoing(fuzzerArgs));
    }

    /// <summary>
    /// The harness itself, uninstrumented, with its PDB (its frames in crash reports get their lines),
    /// refreshed when it was rebuilt: ApplicationFiles never overwrites a file already in the output.
    /// </summary>
    private static void CopyHarness(string harness, string outputDir)
    {
        foreach (string file in new[] { harness, Path.ChangeExtension(harness, ".pdb") }.Where(File.Exists))
        {
            string target = Path.Combine(outputDir, Path.GetFileName(file));
            if (!File.Exists(target) || !File.ReadAllBytes(target).AsSpan().SequenceEqual(File.ReadAllBytes(file)))
                AtomicFile.Copy(file, target);
        }
    }

    /// <summary>
    /// dotnet kcov fuzz's own default: a campaign goes on after findings (libFuzzer's -ignore_crashes=1
    /// -ignore_timeouts=1 -ignore_ooms=1), unless the command line says otherwise about any of them.
    /// Appended: a harness may take arguments of its own before the libFuzzer flags.
    /// </summary>
    private static string[] KeepGoing(string[] args) =>
        args.Any(a => a.TrimStart('-').StartsWith("ignore_", StringComparison.Ordinal))
            ? args
            : [.. args, "-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"];

    /// <summary>The PC map beside <paramref name="assembly"/> when it describes exactly that (instrumented) build, else null.</summary>
    private static PcMap? InstrumentedMap(string assembly)
    {
        string mapPath = PcMap.PathFor(assembly);
        if (!File.Exists(mapPath))
            return null;
        try
        {
            var map = PcMap.Load(mapPath);
            using var pe = new PEReader(File.OpenRead(assembly));
            var md = pe.GetMetadataReader();
            return md.GetGuid(md.GetModuleDefinition().Mvid) == map.OutputMvid ? map : null;
        }
        catch (Exception e) when (e is InvalidDataException or BadImageFormatException or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    /// <summary>The names of the assemblies the harness references directly.</summary>
    private static List<string> References(string harness)
    {
        try
        {
            using var pe = new PEReader(File.OpenRead(harness));
            var md = pe.GetMetadataReader();
            return [.. md.AssemblyReferences.Select(r => md.GetString(md.GetAssemblyReference(r).Name))];
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException)
        {
            throw new UserErrorException($"'{harness}' is not a .NET assembly ({e.Message}); pass the harness's .dll.", e);
        }
    }

    /// <summary>The assemblies the harness references that sit next to it and are neither Kcov's nor the framework's.</summary>
    private static List<string> DefaultTargets(List<string> references, string harnessDir) =>
        references
            .Where(name => !KcovAssemblies.Contains(name) && !FrameworkPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal)))
            .Select(name => Path.Combine(harnessDir, name + ".dll"))
            .Where(File.Exists)
            .ToList();

    private static int RunHarness(Streams io, string harness, string[] args)
    {
        // The console's own streams are inherited (status lines, or the live view on a terminal);
        // other streams (tests) get the harness's output copied into them.
        bool console = ReferenceEquals(io.Out, Console.Out) && ReferenceEquals(io.Error, Console.Error);
        var start = new ProcessStartInfo(RunCommand.DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = !console,
            RedirectStandardError = !console,
        };
        start.ArgumentList.Add(harness);
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using var child = Process.Start(start)!;
        if (!console)
        {
            var copyOut = Task.Run(() => Copy(child.StandardOutput, io.Out));
            var copyErr = Task.Run(() => Copy(child.StandardError, io.Error));
            Task.WaitAll(copyOut, copyErr);
        }
        child.WaitForExit();
        return child.ExitCode;
    }

    private static void Copy(StreamReader from, TextWriter to)
    {
        while (from.ReadLine() is { } line)
        {
            lock (to)
                to.WriteLine(line);
        }
    }
}
