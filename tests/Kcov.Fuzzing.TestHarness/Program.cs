using Kcov.Fuzzing;
using Kcov.Fuzzing.TestHarness;

// Usage: Kcov.Fuzzing.TestHarness <target> [libFuzzer flags] [corpus dirs | files]
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Kcov.Fuzzing.TestHarness magic|asyncmagic|maze|paths|noisy|hostile|scribble|self-message|self-remotearg|self-pcmap|self-dict|self-block|self-assembly [libFuzzer flags]");
    return 2;
}
if (args[0] == "asyncmagic")
    return Fuzzer.Run(args[1..], AsyncMagicHandTarget.Run);
// The supervisor as usual; its executors are HostileExecutor doubles (see there).
if (args[0] == "hostile"
    && Environment.GetEnvironmentVariable("KCOV_FUZZ_EXECUTOR") is { } executor
    && Environment.GetEnvironmentVariable(HostileExecutor.ModeVariable) is { } mode)
    return HostileExecutor.Run(executor, mode);
if (SelfFuzzTargets.For(args[0]) is { } self)
    return Fuzzer.Run(args[1..], self);
Action<ReadOnlySpan<byte>> target = args[0] switch
{
    "magic" => MagicHandTarget.Run,
    "maze" => MazeHandTarget.Run,
    "paths" => ManyPathsHandTarget.Run,
    "noisy" => NoisyHandTarget.Run,
    "hostile" => MagicHandTarget.Run,
    "scribble" => ScribbleHandTarget.Run,
    _ => throw new ArgumentException($"unknown target '{args[0]}'"),
};
return Fuzzer.Run(args[1..], target);
