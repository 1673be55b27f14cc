using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Kcov.Runtime.Benchmarks -- --filter '*'
// dotnet run -c Release --project bench/Kcov.Runtime.Benchmarks -- sections-throughput
if (args is ["sections-throughput"])
{
    Kcov.Benchmarks.SectionsThroughputBenchmarks.Interleaved();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Kcov.Benchmarks.TracePathBenchmarks).Assembly).Run(args);
