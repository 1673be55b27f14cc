using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Kcov.Runtime.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Kcov.Benchmarks.TracePathBenchmarks).Assembly).Run(args);
