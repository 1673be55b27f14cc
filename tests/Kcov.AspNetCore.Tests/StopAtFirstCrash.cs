using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;

namespace Kcov.AspNetCore.Tests;

/// <summary>Collects what an in-process fuzzing loop reports, and stops it at its first crash (as libFuzzer would).</summary>
internal sealed class StopAtFirstCrash : IFuzzReporter
{
    public ExecutionGate? Gate { get; set; }
    public List<(CrashReport Report, byte[] Input, long AtExec)> Crashes { get; } = [];

    public void Crash(CrashReport report, byte[] input, long execs)
    {
        Crashes.Add((report, input, execs));
        Gate?.RequestStop();
    }

    public void NewInput(byte[] input, string reason, string mutations, FuzzStats stats, IReadOnlyList<byte[]> dropped) { }
    public void Stats(FuzzStats stats) { }
    public void Pulse(FuzzStats stats) { }
    public void Inited(FuzzStats stats) { }
    public void HintsBegin(byte[] input) { }
    public void Compared(List<byte[]> values) { }
}
