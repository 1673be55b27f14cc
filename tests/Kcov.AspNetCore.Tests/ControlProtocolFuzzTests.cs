using System.Runtime.Loader;
using Kcov.Coverage;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;
using Kcov.Instrumentation;

namespace Kcov.AspNetCore.Tests;

/// <summary>
/// The control endpoint fuzzed by our own fuzzer: Kcov.Control instrumented (trace-pc and trace-cmp)
/// and loaded beside the real one, its session served from each input as the bytes a client sent,
/// on the fuzzing thread, for a bounded number of executions. Any exception the session did not
/// expect (it must answer or close) is a crash; a hang would never return from the loop.
/// </summary>
public sealed class ControlProtocolFuzzTests
{
    private const int Budget = 100_000;

    [Fact]
    public void FuzzingTheSessionFindsNoCrashAndReachesEveryOp()
    {
        var serve = InstrumentedServe(out var map);
        var reporter = new StopAtFirstCrash();
        long execs = 0;
        var reached = new HashSet<string>();
        Exception? failure = null;
        // KCOV_ENABLE binds the thread that creates the runner: the whole run is on one thread, which
        // the test only joins (a guard against a hang, not a time limit: the budget ends the loop).
        var fuzzing = new Thread(() =>
        {
            try
            {
                // The session swallows and logs an exception it did not expect (it runs on a thread of
                // its own in a service); here its log throws, so such an exception is a crash.
                using var runner = new TargetRunner(FuzzTarget.From(input =>
                    serve(new ScriptedStream(input.ToArray()), message => throw new InvalidOperationException(message))), 1 << 16);
                var gate = new ExecutionGate(null, 0, Budget);
                reporter.Gate = gate;
                var loop = new FuzzLoop(new FuzzerOptions(), runner, gate, reporter, seed: 1, maxLen: 4096, []);
                if (loop.RunSeeds(Seeds))
                    loop.Fuzz();
                execs = loop.Execs;
                // What the corpus reaches: every op's handler, not only the frame reader.
                var symbolizer = new Symbolizer([map]);
                foreach (var input in loop.Corpus.Inputs)
                {
                    runner.Run(input.Data);
                    var area = runner.Area;
                    foreach (ulong pc in area.Slice(1, (int)area[0]))
                        reached.Add(symbolizer.Symbolize(pc).Function);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        fuzzing.Start();
        Assert.True(fuzzing.Join(TimeSpan.FromMinutes(10)), "the session hung on an input");
        Assert.Null(failure);

        Assert.Empty(reporter.Crashes.Select(c => c.Report.Render(c.Input)));
        Assert.Equal(Budget, execs);
        Assert.Superset(new HashSet<string> { "Kcov.Control.ControlSession.Ioctl", "Kcov.Control.ControlSession.Mmap", "Kcov.Control.ControlSession.Wait" }, reached);
    }

    /// <summary>One well-formed request of each op, as a client sends them.</summary>
    private static readonly byte[][] Seeds =
    [
        [.. Control.ControlProtocol.IoctlRequest(KcovAbi.InitTrace, 64), .. Control.ControlProtocol.MmapRequest(512, 0)],
        [.. Control.ControlProtocol.IoctlRequest(KcovAbi.RemoteEnable, new KcovRemoteArg(0, 64, 0x42, [1UL << 56 | 1]).ToBytes())],
        Control.ControlProtocol.WaitRequest(10),
    ];

    /// <summary>KcovControlServer.Serve of an instrumented Kcov.Control, in a load context of its own (Kcov.Runtime is the default context's, with our device).</summary>
    private static Action<Stream, Action<string>?> InstrumentedServe(out PcMap map)
    {
        var instrumented = AssemblyInstrumenter.InstrumentToMemory(
            typeof(Control.KcovControlServer).Assembly.Location, new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });
        map = instrumented.Map;
        var context = new AssemblyLoadContext("kcov-control-instrumented");
        var assembly = context.LoadFromStream(new MemoryStream(instrumented.Assembly), instrumented.Pdb is { } pdb ? new MemoryStream(pdb) : null);
        var serve = assembly.GetType("Kcov.Control.KcovControlServer")!.GetMethod("Serve")!;
        return serve.CreateDelegate<Action<Stream, Action<string>?>>();
    }
}
