using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Kcov.Coverage;

namespace Kcov.Cli.Commands;

/// <summary>
/// <c>dotnet kcov run [--size WORDS] [-o FILE] -- &lt;program&gt; [args]</c>: kcov.rst's example program for .NET.
/// The program runs as a child (<c>dotnet program.dll</c>, or the executable itself) with kcov's startup hook,
/// which enables trace-pc on its main thread before Main. Before Main runs, this maps the area by its shared name
/// (the hook waits for that); after the child exits, however it exits, this prints the PCs as <c>0x%lx</c> lines
/// and exits with the child's code. The area is freed with the last mapping: nothing is left in /dev/shm.
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
        KcovArea? area = null;
        try
        {
            using var child = Process.Start(start)!;
            area = MapWhenAnnounced(child, areaFile);
            child.WaitForExit();
            exitCode = child.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new UserErrorException($"Cannot start '{start.FileName}' ({e.Message}).", e);
        }
        finally
        {
            TryDelete(areaFile);
        }
        using (area)
        {
            if (area is null)
                throw new UserErrorException($"'{target}' exited with code {exitCode} before kcov's startup hook enabled coverage (is it a .NET program? does its runtimeconfig disable startup hooks?).");
            WritePcs(io, area, output);
        }
        return exitCode;
    }

    /// <summary>
    /// Waits for the hook to write the area's name (or for the child to end first: null), maps the area, and
    /// removes the file, which lets the child's Main run. Only a /proc name of the child itself is followed.
    /// </summary>
    private static KcovArea? MapWhenAnnounced(Process child, string areaFile)
    {
        while (!File.Exists(areaFile))
        {
            if (child.WaitForExit(1))
                return null;
        }
        try
        {
            return Map(child, File.ReadAllText(areaFile).Trim());
        }
        catch (UserErrorException)
        {
            // No coverage can be had: the program does not run unobserved (its hook waits for us).
            child.Kill(entireProcessTree: true);
            throw;
        }
        finally
        {
            TryDelete(areaFile);
        }
    }

    private static KcovArea Map(Process child, string announced)
    {
        var fd = System.Text.RegularExpressions.Regex.Match(announced, $@"^/proc/{child.Id}/fd/(\d{{1,9}})$");
        string name = fd.Success ? $"/proc/{child.Id}/fd/{fd.Groups[1].Value}" : announced;
        if (!fd.Success && OperatingSystem.IsLinux())
            throw new UserErrorException($"kcov's startup hook in '{child.StartInfo.FileName}' announced '{announced}', which is not an area of that process; is another kcov's hook first in DOTNET_STARTUP_HOOKS?");
        try
        {
            return KcovArea.OpenShared(name);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"cannot map the program's kcov area '{name}' ({e.Message}).", e);
        }
    }

    private static void WritePcs(Streams io, KcovArea area, string? output)
    {
        var text = new StringBuilder();
        var words = area.Words;
        ulong count = Math.Min(Volatile.Read(ref words[0]), (ulong)words.Length - 1);
        bool full = count == (ulong)words.Length - 1;
        for (int i = 1; i <= (int)count; i++)
            text.Append(PcList.Format(words[i])).Append('\n');
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
