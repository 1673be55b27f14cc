using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Tests;

/// <summary>Collects what an in-process fuzzing loop reports.</summary>
internal sealed class RecordingReporter : IFuzzReporter
{
    public List<(byte[] Input, string Reason, string Mutations)> NewInputs { get; } = [];
    public List<(CrashReport Report, byte[] Input, long AtExec)> Crashes { get; } = [];

    public void NewInput(byte[] input, string reason, string mutations, FuzzStats stats, IReadOnlyList<byte[]> dropped) => NewInputs.Add((input, reason, mutations));
    public void Crash(CrashReport report, byte[] input, long execs) => Crashes.Add((report, input, execs));
    public void Stats(FuzzStats stats) { }
    public void Pulse(FuzzStats stats) { }
    public void Inited(FuzzStats stats) { }
    public List<byte[]> HintsBegun { get; } = [];
    public List<byte[]> ComparedValues { get; } = [];
    public void HintsBegin(byte[] input) => HintsBegun.Add(input);
    public void Compared(List<byte[]> values) => ComparedValues.AddRange(values);
}
