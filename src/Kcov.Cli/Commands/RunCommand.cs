using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Kcov.Coverage;

namespace Kcov.Cli.Commands;

/// <summary>
/// <c>dotnet kcov run [--size WORDS] [-o FILE] -- &lt;program&gt; [args]</c>: kcov.rst's example program for .NET.
/// The program runs as a child (<c>dotnet program.dll</c>, or the executable itself) with kcov's startup hook,
/// which enables trace-pc on its main thread before Main; after the child exits, however it exits, this reads
/// the area by its shared name, prints the PCs as <c>0x%lx</c> lines, removes the area, and exits with the child's code.
/// </summary>
internal static class RunCommand
{
    public static Command Create(Streams io)
    {
        var size = new Option<int>("--size") { Description = "Area size in 64-bit words (kcov's COVER_SIZE).", DefaultValueFactory = _ => 1 << 20 };
        size.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 2)
                r.AddError("--size must be at least 2 words (the count and one PC)");
        });
        var output = new Option<string?>("--output", "-o") { Description = "Write the PCs to this file (atomically) instead of stdout." };
        var program = new Argument<string[]>("program") { Arity = ArgumentArity.OneOrMore, Description = "The .NET program (.dll or executable), then its arguments, after --." };
        var command = new Command("run", "Run a .NET program with KCOV_ENABLE (trace-pc) on its main thread and print the PCs it covered.")
        {
            size, output, program,
        };
        command.SetAction(parse => Run(io, parse.GetValue(program)!, parse.GetValue(size), parse.GetValue(output)));
        return command;
    }

    private static int Run(Streams io, string[] commandLine, int words, string? output)
    {
        string target = commandLine[0];
        if (!File.Exists(target))
            throw new UserErrorException($"'{target}' does not exist; pass the program to run after --, e.g. dotnet kcov run -- out/App.dll input.txt.");
        string hook = Path.Combine(AppContext.BaseDirectory, "Kcov.Cli.StartupHook.dll");
        if (!File.Exists(hook))
            throw new UserErrorException($"kcov's startup hook is missing at '{hook}'; reinstall dotnet-kcov.");

        var start = new ProcessStartInfo { UseShellExecute = false };
        if (target.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            start.FileName = DotnetHost();
            start.ArgumentList.Add(target);
        }
        else
            start.FileName = target;
        foreach (string arg in commandLine[1..])
            start.ArgumentList.Add(arg);

        string areaFile = Path.Combine(Path.GetTempPath(), $"kcov-run-{Environment.ProcessId}-{Guid.NewGuid():N}");
        string? hooks = Environment.GetEnvironmentVariable("DOTNET_STARTUP_HOOKS");
        start.Environment["DOTNET_STARTUP_HOOKS"] = string.IsNullOrEmpty(hooks) ? hook : hooks + Path.PathSeparator + hook;
        start.Environment[StartupHook.AreaFileVariable] = areaFile;
        start.Environment[StartupHook.AreaWordsVariable] = words.ToString(System.Globalization.CultureInfo.InvariantCulture);

        int exitCode;
        try
        {
            using var child = Process.Start(start)!;
            child.WaitForExit();
            exitCode = child.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new UserErrorException($"Cannot start '{start.FileName}' ({e.Message}).", e);
        }

        try
        {
            if (!File.Exists(areaFile))
                throw new UserErrorException($"'{target}' exited with code {exitCode} before kcov's startup hook enabled coverage (is it a .NET program? does its runtimeconfig disable startup hooks?).");
            string areaName = File.ReadAllText(areaFile).Trim();
            try
            {
                WritePcs(io, areaName, output);
            }
            finally
            {
                TryDelete(areaName);
            }
        }
        finally
        {
            TryDelete(areaFile);
        }
        return exitCode;
    }

    private static void WritePcs(Streams io, string areaName, string? output)
    {
        var text = new StringBuilder();
        bool full;
        using (var area = KcovArea.OpenShared(areaName))
        {
            var words = area.Words;
            ulong count = Math.Min(Volatile.Read(ref words[0]), (ulong)words.Length - 1);
            full = count == (ulong)words.Length - 1;
            for (int i = 1; i <= (int)count; i++)
                text.Append(PcList.Format(words[i])).Append('\n');
        }
        if (full)
            io.Error.WriteLine("kcov: note: the area filled up, so later PCs were dropped; run again with a larger --size.");
        if (output is null)
            io.Out.Write(text.ToString());
        else
            AtomicFile.WriteAllText(output, text.ToString());
    }

    /// <summary>The dotnet host that runs this process (or the one beside its runtime), to run program.dll with.</summary>
    internal static string DotnetHost()
    {
        string executable = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
            return hostPath;
        if (Environment.ProcessPath is { } self && Path.GetFileName(self) == executable)
            return self;
        // <root>/shared/Microsoft.NETCore.App/<version>/ -> <root>/dotnet
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(root, executable);
        return File.Exists(candidate) ? candidate : executable;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
