using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing;

/// <summary>
/// A short, bounded fuzz run inside the calling process (a unit test, say): the same loop an
/// executor runs (mutations, kcov signal, comparison hints), on the calling thread, stopping at the
/// first exception the target throws. Unlike <see cref="Fuzzer.Run(string[], Action{ReadOnlySpan{byte}})"/>
/// there is no supervisor: a stack overflow or a hang takes the calling process with it, so keep
/// real campaigns in a harness.
/// </summary>
public static class InProcessFuzzer
{
    /// <summary>Fuzzes <paramref name="target"/> for at most <paramref name="runs"/> executions.</summary>
    /// <param name="target">The code under test; its assemblies must be instrumented (Kcov.MSBuild or dotnet kcov instrument).</param>
    /// <param name="runs">The execution budget.</param>
    /// <param name="seed">The random seed (the same seed and corpus give the same run).</param>
    /// <param name="corpusDirectory">Seeds are read from it (when it exists) and new corpus inputs saved into it; null: neither.</param>
    /// <param name="maxLen">The largest input generated.</param>
    /// <exception cref="InvalidOperationException">The seeds covered no instrumented code: the code is not instrumented.</exception>
    public static InProcessFuzzResult Run(Action<ReadOnlySpan<byte>> target, long runs, int seed = 1, string? corpusDirectory = null, int maxLen = 4096)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfNegative(runs);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLen, 1);
        var options = new FuzzerOptions { Runs = runs, MaxLen = maxLen, Seed = (uint)seed };
        var seeds = corpusDirectory is null ? [] : CorpusDirectory.Load([corpusDirectory], maxLen, out _);
        var reporter = new FirstCrash(corpusDirectory);
        using var runner = new TargetRunner(FuzzTarget.From(target), options.AreaWords);
        var loop = new FuzzLoop(options, runner, new ExecutionGate(null, 0, runs), reporter, seed, maxLen, []);
        try
        {
            if (loop.RunSeeds(seeds))
            {
                if (loop.Stats.Cov == 0)
                    throw new InvalidOperationException("no interesting inputs were found. Is the code instrumented for coverage? " +
                        "Add <KcovInstrument Include=\"AssemblyUnderTest\" /> (package Kcov.MSBuild) to the test project.");
                loop.Fuzz();
            }
        }
        catch (FirstCrash.Found)
        {
            // The loop goes on after a crash (a campaign keeps fuzzing); a test wants the first one.
        }
        return new InProcessFuzzResult(loop.Execs, loop.Stats.Cov, loop.Corpus.Count, reporter.Signature, reporter.CrashInput, reporter.CrashReport);
    }

    /// <summary>Keeps the first crash; saves new corpus inputs when there is a directory.</summary>
    private sealed class FirstCrash(string? corpusDirectory) : IFuzzReporter
    {
        public string? Signature { get; private set; }
        public byte[]? CrashInput { get; private set; }
        public string? CrashReport { get; private set; }

        private readonly HashSet<string> _saved = [];

        public void NewInput(byte[] input, string reason, string mutations, FuzzStats stats, IReadOnlyList<byte[]> dropped)
        {
            if (corpusDirectory is null)
                return;
            Directory.CreateDirectory(corpusDirectory);
            string sha1 = CorpusDirectory.Sha1(input);
            if (!File.Exists(Path.Combine(corpusDirectory, sha1)) && _saved.Add(sha1))
                CorpusDirectory.Save(corpusDirectory, input);
            // -reduce_inputs=1: only files this run wrote, never a seed.
            foreach (var old in dropped)
                if (_saved.Remove(CorpusDirectory.Sha1(old)))
                    File.Delete(Path.Combine(corpusDirectory, CorpusDirectory.Sha1(old)));
        }

        public void Crash(CrashReport report, byte[] input, long execs)
        {
            Signature = report.Signature;
            CrashInput = input;
            CrashReport = report.Render(input);
            throw new Found();
        }

        /// <summary>Unwinds the loop from its reporter at the first crash.</summary>
        public sealed class Found : Exception;

        public void Stats(FuzzStats stats) { }
        public void Pulse(FuzzStats stats) { }
        public void Inited(FuzzStats stats) { }
        // No other executor to tell: the hints pass and compared values stay in this loop.
        public void HintsBegin(byte[] input) { }
        public void Compared(List<byte[]> values) { }
    }
}
