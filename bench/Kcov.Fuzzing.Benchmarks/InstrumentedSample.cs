using System.Reflection;
using System.Runtime.Loader;
using Kcov.Instrumentation;

namespace Kcov.Fuzzing.Benchmarks;

/// <summary>
/// The tiny-input sample of the execs benchmark: samples' MagicNumberTarget, instrumented
/// (trace-pc, trace-cmp) by Kcov.Instrumentation into a directory and loaded from there, with
/// Kcov.Runtime resolved to this process's copy so that it traces into this process's device.
/// </summary>
internal static class InstrumentedSample
{
    private const string TargetAssembly = "Kcov.Samples.Targets";

    /// <summary>Instruments the sample into a fresh directory; returns it.</summary>
    public static string Instrument()
    {
        string dir = Directory.CreateTempSubdirectory("kcov-bench-sample-").FullName;
        AssemblyInstrumenter.Instrument(Path.Combine(AppContext.BaseDirectory, TargetAssembly + ".dll"), dir,
            new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });
        return dir;
    }

    /// <summary>MagicNumberTarget.Run from the instrumented copy in <paramref name="dir"/>.</summary>
    public static Action<ReadOnlySpan<byte>> Load(string dir)
    {
        var context = new SampleLoadContext(Path.Combine(dir, TargetAssembly + ".dll"));
        var assembly = context.LoadFromAssemblyName(new AssemblyName(TargetAssembly));
        var run = assembly.GetType("Kcov.Samples.Targets.MagicNumberTarget", throwOnError: true)!.GetMethod("Run")!;
        return run.CreateDelegate<Action<ReadOnlySpan<byte>>>();
    }

    private sealed class SampleLoadContext(string path) : AssemblyLoadContext("kcov-bench-sample")
    {
        protected override Assembly? Load(AssemblyName name) =>
            name.Name == TargetAssembly ? LoadFromAssemblyPath(path) : null;
    }
}
