using Kcov.Fuzzing;
using Kcov.Fuzzing.Benchmarks;

// dotnet run -c Release --project bench/Kcov.Fuzzing.Benchmarks -- gcov|execs [repetitions]
string what = args.Length > 0 ? args[0] : "";
int repetitions = args.Length > 1 && int.TryParse(args[1], out int r) ? r : 7;
switch (what)
{
    case "gcov":
        WhyNotGcov.Run(repetitions);
        return 0;
    case "execs":
        ExecsPerSecond.Run(repetitions);
        return 0;
    case "roundtrip-executor":
        return ExecsPerSecond.RoundTripExecutor(args[1], args[2]);
    case "harness":
        // This program as a fuzz harness of the instrumented sample in args[1] (the "whole harness" row of `execs`).
        return Fuzzer.Run(args[2..], InstrumentedSample.Load(args[1]));
    default:
        Console.Error.WriteLine("usage: Kcov.Fuzzing.Benchmarks gcov|execs [repetitions]");
        return 2;
}
