using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Executor;

/// <summary>Where the fuzzing loop sends what it finds: the supervisor's channel, or a test.</summary>
internal interface IFuzzReporter
{
    /// <param name="input">The new corpus input.</param>
    /// <param name="reason">NEW or REDUCE.</param>
    /// <param name="mutations">The mutation sequence that made it.</param>
    /// <param name="stats">The counters after it joined.</param>
    /// <param name="dropped">Corpus inputs it pushed out (they own no feature any more).</param>
    void NewInput(byte[] input, string reason, string mutations, FuzzStats stats, IReadOnlyList<byte[]> dropped);
    /// <param name="report">What went wrong.</param>
    /// <param name="input">The input.</param>
    /// <param name="execs">The campaign's executions when it was found.</param>
    void Crash(CrashReport report, byte[] input, long execs);
    void Stats(FuzzStats stats);

    /// <summary>The campaign's execution count reached a power of two (libFuzzer's "pulse" lines).</summary>
    void Pulse(FuzzStats stats);
    void Inited(FuzzStats stats);

    /// <summary>The hints pass of a corpus input begins (the supervisor marks it done for later executors).</summary>
    void HintsBegin(byte[] input);

    /// <summary>Values the target compared against, new to this loop (the campaign's dictionary).</summary>
    void Compared(List<byte[]> values);
}
