using Kcov.Instrumentation;

namespace Kcov.AspNetCore.Tests;

/// <summary>
/// samples/OrderService with OrderService.dll instrumented by the real instrumenter (trace-pc and
/// trace-cmp, as <c>dotnet kcov fuzz</c> builds targets): a copy of the test output directory, made
/// once per test run; started as its own process with a fast restock loop.
/// </summary>
internal static class InstrumentedOrderService
{
    private static readonly Lazy<string> s_app = new(Build);

    public static string AppDirectory => s_app.Value;

    public static OrderServiceProcess Start(string socket) =>
        OrderServiceProcess.Start(AppDirectory, socket, "--Restock:IntervalMs", "20");

    private static string Build()
    {
        string source = AppContext.BaseDirectory;
        string app = Directory.CreateTempSubdirectory("kcov-order-service-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(app, recursive: true); } catch (IOException) { }
        };
        foreach (var file in Directory.EnumerateFiles(source))
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        AssemblyInstrumenter.Instrument(Path.Combine(source, "OrderService.dll"), app, new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });
        return app;
    }
}
