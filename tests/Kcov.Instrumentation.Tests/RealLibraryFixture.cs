using System.Collections.Concurrent;
using System.Reflection;
using Kcov.Workloads;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// Each real library instrumented once per trace mode for the whole test run (into one temp
/// directory per library and mode), with its own load context holding the instrumented library
/// and a second copy of Kcov.Workloads bound to it.
/// </summary>
public sealed class RealLibraryFixture : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly ConcurrentDictionary<(string, TraceModes, bool), Lazy<InstrumentedLibrary>> _libraries = new();

    internal InstrumentedLibrary Get(LibraryWorkload workload, TraceModes modes, bool prune = true) =>
        _libraries.GetOrAdd((workload.Name, modes, prune), _ => new Lazy<InstrumentedLibrary>(() =>
        {
            string output = _root.Combine(workload.Name + "-" + modes.ToString().Replace(", ", "+") + (prune ? "" : "-noprune"));
            var result = AssemblyInstrumenter.Instrument(workload.OriginalPath, output,
                new InstrumentationOptions { Trace = modes, Prune = prune });
            var context = new InstrumentedLoadContext([result.AssemblyPath, typeof(LibraryWorkload).Assembly.Location]);
            return new InstrumentedLibrary(workload, result, context);
        })).Value;

    public void Dispose() => _root.Dispose();
}

internal sealed class InstrumentedLibrary
{
    public InstrumentedLibrary(LibraryWorkload workload, InstrumentationResult result, InstrumentedLoadContext context)
    {
        Workload = workload;
        Result = result;
        Context = context;
        Assembly = context.LoadFromAssemblyName(new AssemblyName(workload.AssemblyName));
        var workloads = context.LoadFromAssemblyName(typeof(LibraryWorkload).Assembly.GetName());
        var run = workloads.GetType(workload.RunType.FullName!, throwOnError: true)!.GetMethod("Run")!;
        Run = run.CreateDelegate<Func<byte[], string>>();
        OriginalRun = workload.RunType.GetMethod("Run")!.CreateDelegate<Func<byte[], string>>();
    }

    public LibraryWorkload Workload { get; }
    public InstrumentationResult Result { get; }
    public InstrumentedLoadContext Context { get; }

    /// <summary>The instrumented library, loaded.</summary>
    public Assembly Assembly { get; }

    /// <summary>The workload bound to the instrumented library.</summary>
    public Func<byte[], string> Run { get; }

    /// <summary>The workload bound to the original library.</summary>
    public Func<byte[], string> OriginalRun { get; }
}

[CollectionDefinition(Name)]
public sealed class RealLibraryCollection : ICollectionFixture<RealLibraryFixture>
{
    public const string Name = "Real libraries";
}
