using Kcov.Instrumentation;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// The samples harness (samples/Kcov.Samples) with its targets really instrumented: a copy of the
/// test output directory in which Kcov.Samples.Targets.dll and Markdig.dll are replaced by their
/// trace-pc,trace-cmp instrumented versions (with PDBs and PC maps), made once per test run.
/// </summary>
internal static class InstrumentedSamples
{
    private static readonly Lazy<string> s_directory = new(Build);

    /// <summary>The directory holding the instrumented app.</summary>
    public static string Directory => s_directory.Value;

    public static string Dll => Path.Combine(Directory, "Kcov.Samples.dll");

    /// <summary>Runs the samples harness: <c>dotnet Kcov.Samples.dll sample args...</c> in <paramref name="workDir"/>.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string workDir, string sample, params string[] args) =>
        HarnessProcess.Run(workDir, Dll, [sample, .. args]);

    public static HarnessProcess Start(string workDir, string sample, params string[] args) =>
        HarnessProcess.Start(workDir, Dll, [sample, .. args]);

    /// <summary><see cref="Run"/> in a /dev/shm of its own: also returns what the campaign left there.</summary>
    public static (int ExitCode, string Stdout, string Stderr, string[] ShmLeft) RunPrivateShm(string workDir, string sample, params string[] args) =>
        HarnessProcess.RunPrivateShm(workDir, Dll, [sample, .. args]);

    private static string Build()
    {
        string source = AppContext.BaseDirectory;
        string app = System.IO.Directory.CreateTempSubdirectory("kcov-fuzz-samples-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { System.IO.Directory.Delete(app, recursive: true); } catch (IOException) { }
        };
        foreach (var file in System.IO.Directory.EnumerateFiles(source))
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        var options = new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp };
        foreach (var target in new[] { "Kcov.Samples.Targets.dll", "Markdig.dll" })
            AssemblyInstrumenter.Instrument(Path.Combine(source, target), app, options);
        return app;
    }
}
