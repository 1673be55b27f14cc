using Kcov.Fuzzing.Benchmarks;

// dotnet run -c Release --project bench/Kcov.Fuzzing.Benchmarks -- gcov|execs [repetitions]
string what = args.Length > 0 ? args[0] : "";
int repetitions = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 7;
switch (what)
{
    case "gcov":
        WhyNotGcov.Run(repetitions);
        return 0;
    default:
        Console.Error.WriteLine("usage: Kcov.Fuzzing.Benchmarks gcov|execs [repetitions]");
        return 2;
}
