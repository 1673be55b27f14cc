using Kcov.Fuzzing;
using Kcov.Samples.Targets;

// The fuzz target ClusterFuzz runs: libFuzzer's command line in, libFuzzer's output and exit
// codes out. No `return` is needed: Fuzzer.Run also sets the process exit code.
Fuzzer.Run(args, RecordsTarget.Run);
