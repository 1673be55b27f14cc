using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Kcov.Fuzzing.Corpus;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Feedback;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Mutation;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Benchmarks;

/// <summary>
/// Executions per second on the tiny-input sample (samples' MagicNumberTarget, really instrumented;
/// see <see cref="InstrumentedSample"/>), three ways, same run:
/// <list type="number">
/// <item>supervisor round trip: the supervisor mutates, sends each input to an executor process
/// over the channel, and waits for its features (a per-input round trip, the baseline);</item>
/// <item>in-process hot loop: the executor's <see cref="FuzzLoop"/> (mutate, run, read coverage,
/// update the corpus) with no round trip;</item>
/// <item>the product end to end: this program as a harness (<see cref="Fuzzer.Run(string[], Action{ReadOnlySpan{byte}})"/>),
/// supervisor plus executor, as a user runs it; its own exec/s statistic.</item>
/// </list>
/// </summary>
internal static class ExecsPerSecond
{
    private const long InProcessExecs = 2_000_000;
    private const long RoundTripExecs = 100_000;
    private const long ProductExecs = 5_000_000;

    public static void Run(int repetitions)
    {
        string sample = InstrumentedSample.Instrument();
        var target = InstrumentedSample.Load(sample);
        var roundTrip = Repeat(repetitions, () => MeasureRoundTrip(sample));
        var inProcess = Repeat(repetitions, () => MeasureInProcess(target));
        var product = Repeat(repetitions, () => MeasureProduct(sample));
        Console.WriteLine("| loop | exec/s (min / median) | vs round trip (median) |");
        Console.WriteLine("|---|---:|---:|");
        Row("supervisor round trip per input", roundTrip, roundTrip.Median);
        Row("in-process hot loop (executor)", inProcess, roundTrip.Median);
        Row("whole harness: supervisor + executor", product, roundTrip.Median);
    }

    private static void Row(string name, (double Min, double Median) v, double baseline) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {v.Min:N0} / {v.Median:N0} | {v.Median / baseline:F1}x |"));

    private static (double Min, double Median) Repeat(int repetitions, Func<double> measure)
    {
        measure(); // warm-up
        var samples = Enumerable.Range(0, repetitions).Select(_ => measure()).Order().ToList();
        return (samples[0], samples[samples.Count / 2]);
    }

    private static double MeasureInProcess(Action<ReadOnlySpan<byte>> target)
    {
        // A fixed number of executions, whatever the target does: the loop goes on after a crash.
        var options = new FuzzerOptions { UseCmp = false, Runs = InProcessExecs, IgnoreCrashes = true };
        using var runner = new TargetRunner(FuzzTarget.From(target), 1 << 16);
        var loop = new FuzzLoop(options, runner, new ExecutionGate(null, 0, InProcessExecs), new NullReporter(), 1, 64, []);
        var clock = Stopwatch.StartNew();
        if (loop.RunSeeds([]))
            loop.Fuzz();
        return loop.Execs / clock.Elapsed.TotalSeconds;
    }

    private static double MeasureRoundTrip(string sample)
    {
        string socketPath = Path.Combine(Path.GetTempPath(), $"kcov-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.sock"[..48]);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        using var child = Process.Start(SelfStartInfo("roundtrip-executor", socketPath, sample))!;
        using var channel = new Channel(listener.Accept());
        File.Delete(socketPath);

        var random = new Random(1);
        var corpus = new InputCorpus();
        var context = new MutationContext(random, [], () => corpus.Count == 0 ? null : corpus.Pick(random).Data);
        var dispatcher = new MutationDispatcher(context, 5, crossOver: true);
        var buffer = new byte[64];
        var clock = Stopwatch.StartNew();
        for (long i = 0; i < RoundTripExecs; i++)
        {
            int size = 0;
            if (corpus.Count > 0)
            {
                var parent = corpus.Pick(random).Data;
                parent.CopyTo(buffer, 0);
                size = parent.Length;
            }
            size = dispatcher.Mutate(buffer, size, 64);
            var input = buffer.AsSpan(0, size).ToArray();
            channel.Send(new Message { Kind = MessageKind.AddInput, Input = input });
            var reply = channel.Receive() ?? throw new InvalidOperationException("the round-trip executor died");
            corpus.Offer(input, reply.Features, out _);
        }
        double rate = RoundTripExecs / clock.Elapsed.TotalSeconds;
        channel.Dispose();
        child.WaitForExit();
        return rate;
    }

    /// <summary>The executor side of the round trip: run each input it is sent, answer with its features.</summary>
    public static int RoundTripExecutor(string socketPath, string sample)
    {
        using var channel = Channel.Connect(socketPath);
        using var runner = new TargetRunner(FuzzTarget.From(InstrumentedSample.Load(sample)), 1 << 16);
        var signal = new Signal();
        while (channel.Receive() is { } m)
        {
            runner.Run(m.Input);
            channel.Send(new Message { Kind = MessageKind.MergeFeatures, Features = signal.Collect(runner.Area).ToArray() });
        }
        return 0;
    }

    private static double MeasureProduct(string sample)
    {
        var info = SelfStartInfo("harness", sample, $"-runs={ProductExecs}", "-seed=1", "-use_cmp=0", "-ignore_crashes=1", "-print_final_stats=1");
        info.RedirectStandardError = true;
        using var harness = Process.Start(info)!;
        string stderr = harness.StandardError.ReadToEnd();
        harness.WaitForExit();
        var m = Regex.Match(stderr, @"stat::average_exec_per_sec: (\d+)");
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException(stderr);
    }

    private static ProcessStartInfo SelfStartInfo(params string[] args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            info.ArgumentList.Add(typeof(ExecsPerSecond).Assembly.Location);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        return info;
    }
}
