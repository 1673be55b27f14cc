using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Executor;

/// <summary>Where the fuzzing loop sends what it finds: the supervisor's channel, or a test.</summary>
internal interface IFuzzReporter
{
    void NewInput(byte[] input, string reason, string mutations, FuzzStats stats);
    void Crash(CrashReport report, byte[] input);
    void Stats(FuzzStats stats);
    void Inited(FuzzStats stats);
}
