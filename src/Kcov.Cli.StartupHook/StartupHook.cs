using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

/// <summary>
/// The startup hook of <c>kcov run</c> (the runtime calls <see cref="Initialize"/> on the main thread before Main):
/// it does what kcov.rst's example does before its syscall. Open a device, size and map it, enable trace-pc on
/// this thread, and tell <c>kcov run</c> the area's shared name (through the file named by KCOV_RUN_AREA_FILE)
/// so that it reads the PCs after the program ends, however it ends. It must be in no namespace.
/// </summary>
public static class StartupHook
{
    /// <summary>Where to write the area's name; set by <c>kcov run</c> (RunCommand), which reads it back.</summary>
    public const string AreaFileVariable = "KCOV_RUN_AREA_FILE";

    /// <summary>Area size in 64-bit words; set by <c>kcov run --size</c>.</summary>
    public const string AreaWordsVariable = "KCOV_RUN_AREA_WORDS";

    public static void Initialize()
    {
        string? areaFile = Environment.GetEnvironmentVariable(AreaFileVariable);
        if (string.IsNullOrEmpty(areaFile))
            return;
        // A program that ships no Kcov.Runtime (not instrumented, or its deps.json does not list it) gets the copy
        // beside this hook; its instrumented code then binds to the same one.
        AssemblyLoadContext.Default.Resolving += ResolveRuntime;
        if (!int.TryParse(Environment.GetEnvironmentVariable(AreaWordsVariable), out int words))
            words = 1 << 20;
        Start(areaFile, words);
    }

    // Kept out of Initialize so that Kcov.Runtime is loaded only after the resolver is in place.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Start(string areaFile, int words) => TraceSession.Start(areaFile, words);

    private static Assembly? ResolveRuntime(AssemblyLoadContext context, AssemblyName name)
    {
        if (name.Name != "Kcov.Runtime")
            return null;
        string path = Path.Combine(Path.GetDirectoryName(typeof(StartupHook).Assembly.Location)!, "Kcov.Runtime.dll");
        return File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;
    }
}
