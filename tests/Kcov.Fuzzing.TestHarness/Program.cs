using Kcov.Fuzzing;
using Kcov.Fuzzing.TestHarness;

// Usage: Kcov.Fuzzing.TestHarness <target> [libFuzzer flags] [corpus dirs | files]
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Kcov.Fuzzing.TestHarness magic|asyncmagic|maze|paths|noisy [libFuzzer flags]");
    return 2;
}
if (args[0] == "asyncmagic")
    return Fuzzer.Run(args[1..], AsyncMagicHandTarget.Run);
Action<ReadOnlySpan<byte>> target = args[0] switch
{
    "magic" => MagicHandTarget.Run,
    "maze" => MazeHandTarget.Run,
    "paths" => ManyPathsHandTarget.Run,
    "noisy" => NoisyHandTarget.Run,
    _ => throw new ArgumentException($"unknown target '{args[0]}'"),
};
return Fuzzer.Run(args[1..], target);
