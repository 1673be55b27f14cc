using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Benchmarks;

/// <summary>Discards reports: the in-process measurement counts executions only.</summary>
internal sealed class NullReporter : IFuzzReporter
{
    public void NewInput(byte[] input, string reason, string mutations, FuzzStats stats, IReadOnlyList<byte[]> dropped) { }
    public void Crash(CrashReport report, byte[] input, long execs) { }
    public void Stats(FuzzStats stats) { }
    public void Pulse(FuzzStats stats) { }
    public void Inited(FuzzStats stats) { }
    public void HintsBegin(byte[] input) { }
    public void Compared(List<byte[]> values) { }
}
