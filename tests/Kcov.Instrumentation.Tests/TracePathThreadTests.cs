using Kcov.Coverage;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// kcov's per-thread semantics through instrumented code, for each way a block can find its
/// thread's task (Trace.cs): no tracer, one tracer (recognized by the frame's address), several
/// tracers (the thread-static task). A method that enables kcov part-way records its later
/// blocks; a thread whose task is created mid-method likewise; an async method records on the
/// thread each part runs on; remote sections collect from instrumented code on workers; several
/// tracing threads each get exactly their own blocks.
/// </summary>
public sealed class TracePathThreadTests : IDisposable
{
    private const string Source = """
        using System;
        using System.Threading.Tasks;

        public static class Flows
        {
            public static int PartWay(int n, Action middle)
            {
                int s = 0;
                for (int i = 0; i < n; i++)
                    s += i;
                middle();
                if (s > 3)
                    s += 2;
                else
                    s -= 2;
                return s;
            }

            public static async Task<int> Resume(Task gate, int a)
            {
                if (a > 0)
                    a++;
                else
                    a--;
                await gate;
                if (a > 5)
                    a *= 2;
                else
                    a *= 3;
                return a;
            }

            public static int Sum(int n)
            {
                int t = 0;
                for (int i = 0; i < n; i++)
                {
                    if ((i & 1) == 0)
                        t += i;
                    else
                        t -= 1;
                }
                return t;
            }
        }
        """;

    private readonly TempDirectory _dir = new();
    private readonly InstrumentationResult _result;
    private readonly Type _flows;

    public TracePathThreadTests()
    {
        string input = Snippet.Compile(Source, _dir.Combine("in"), "Flows");
        // Every block probed, so the expected sequences are plain to read off.
        _result = AssemblyInstrumenter.Instrument(input, _dir.Combine("out"),
            new InstrumentationOptions { Trace = TraceModes.Pc, Prune = false, CallSiteHooks = false });
        _flows = new InstrumentedLoadContext([_result.AssemblyPath]).LoadFromAssemblyPath(_result.AssemblyPath).GetType("Flows")!;
    }

    public void Dispose() => _dir.Dispose();

    private T Call<T>(string method, params object[] args) => (T)_flows.GetMethod(method)!.Invoke(null, args)!;

    /// <summary>Source lines of the recorded PCs (the sample's lines are distinct per statement).</summary>
    private int[] Lines(IEnumerable<ulong> pcs) => [.. pcs.Select(pc => _result.Map.Sites[SiteId.IndexOf(pc)].Line)];

    private static int LineOf(string statement) =>
        Source.Split('\n').Select((l, i) => (l, i)).Single(x => x.l.Trim() == statement).i + 1;

    /// <summary>While it lives, another thread traces too, so blocks take the several-tracers path.</summary>
    private sealed class OtherTracer : IDisposable
    {
        private readonly ManualResetEventSlim _enabled = new(), _stop = new();
        private readonly Thread _thread;

        public OtherTracer()
        {
            _thread = new Thread(() =>
            {
                using var device = KcovDevice.OpenEnabled(64, KcovMode.TracePc, out var area);
                using (area)
                {
                    _enabled.Set();
                    _stop.Wait();
                    device.Disable();
                }
            });
            _thread.Start();
            _enabled.Wait();
        }

        public void Dispose()
        {
            _stop.Set();
            _thread.Join();
        }
    }

    private static OtherTracer? Others(bool several) => several ? new OtherTracer() : null;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AMethodThatEnablesKcovPartWayRecordsItsLaterBlocks(bool severalTracers)
    {
        using var others = Others(severalTracers);
        ulong[] whole = [];
        ulong[] later = [];
        Threads.RunOnFreshThread(() =>
        {
            whole = Recorder.Pcs(() => Call<int>("PartWay", 4, (Action)(() => { })));
            // This thread already has its task (Recorder enabled a device on it): only the binding is new.
            later = EnableInTheMiddle();
        });
        Assert.NotEmpty(later);
        Assert.Equal(whole[^later.Length..], later);
        Assert.Equal([LineOf("s += 2;"), LineOf("return s;")], Lines(later));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AThreadWhoseTaskIsCreatedMidMethodRecordsItsLaterBlocks(bool severalTracers)
    {
        using var others = Others(severalTracers);
        ulong[] later = [];
        Threads.RunOnFreshThread(() => later = EnableInTheMiddle());
        Assert.Equal([LineOf("s += 2;"), LineOf("return s;")], Lines(later));
    }

    /// <summary>Calls PartWay(4) with a device enabled by its middle() call; returns what the device recorded.</summary>
    private ulong[] EnableInTheMiddle()
    {
        KcovDevice? device = null;
        KcovArea? area = null;
        try
        {
            Call<int>("PartWay", 4, (Action)(() =>
            {
                device = KcovDevice.OpenEnabled(64, KcovMode.TracePc, out area);
                area.Words[0] = 0;
            }));
            device!.Disable();
            return area!.Words[1..(1 + (int)area.Words[0])].ToArray();
        }
        finally
        {
            area?.Dispose();
            device?.Dispose();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnAsyncMethodRecordsOnTheThreadEachPartRunsOn(bool severalTracers)
    {
        using var others = Others(severalTracers);
        int before = LineOf("a++;"), after = LineOf("a *= 2;");

        // Started on the traced thread, resumed on another: only the part before the await is ours.
        ulong[] firstPart = [];
        Threads.RunOnFreshThread(() =>
        {
            var gate = new TaskCompletionSource(); // continuations run inline on the completing thread
            Task<int>? task = null;
            firstPart = Recorder.Pcs(() =>
            {
                task = Call<Task<int>>("Resume", gate.Task, 5);
                Threads.RunOnFreshThread(gate.SetResult);
                Assert.True(task.IsCompleted);
            });
            Assert.Equal(12, task!.Result);
        });
        Assert.Contains(before, Lines(firstPart));
        Assert.DoesNotContain(after, Lines(firstPart));

        // Started on another thread, resumed on the traced one: only the part after the await is ours.
        ulong[] secondPart = [];
        Threads.RunOnFreshThread(() =>
        {
            var gate = new TaskCompletionSource();
            Task<int>? task = null;
            Threads.RunOnFreshThread(() => task = Call<Task<int>>("Resume", gate.Task, 5));
            secondPart = Recorder.Pcs(gate.SetResult);
            Assert.Equal(12, task!.Result);
        });
        Assert.Contains(after, Lines(secondPart));
        Assert.DoesNotContain(before, Lines(secondPart));
    }

    [Fact]
    public void SeveralTracingThreadsEachGetExactlyTheirOwnBlocks()
    {
        ulong[] alone = [];
        Threads.RunOnFreshThread(() => alone = Recorder.Pcs(() => Call<int>("Sum", 200)));
        Assert.True(alone.Length > 200 * 4); // each turn: the loop test, the parity test, one arm, the increment

        const int Tracing = 4, Rounds = 20;
        var results = new ulong[Tracing][][];
        using var start = new Barrier(Tracing);
        var threads = Enumerable.Range(0, Tracing).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            results[t] = [.. Enumerable.Range(0, Rounds).Select(_ => Recorder.Pcs(() => Call<int>("Sum", 200)))];
        })).ToArray();
        foreach (var thread in threads)
            thread.Start();
        foreach (var thread in threads)
            thread.Join();
        Assert.All(results.SelectMany(r => r), pcs => Assert.Equal(alone, pcs));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARemoteSectionCollectsInstrumentedCodeOnAWorker(bool severalTracers)
    {
        using var others = Others(severalTracers);
        ulong[] alone = [];
        Threads.RunOnFreshThread(() => alone = Recorder.Pcs(() => Call<int>("Sum", 10)));

        ulong handle = KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, 0x7a11);
        Threads.RunOnFreshThread(() =>
        {
            using var device = KcovDevice.Open();
            device.InitTrace(1024);
            using var area = device.Map();
            device.RemoteEnable(KcovMode.TracePc, 1024, [handle]);
            Threads.RunOnFreshThread(() =>
            {
                Call<int>("Sum", 3); // before the section: not collected
                Remote.Start(handle);
                Call<int>("Sum", 10);
                Remote.Stop();
                Call<int>("Sum", 3);
            });
            Assert.Equal(alone, area.Words[1..(1 + (int)area.Words[0])].ToArray());
            device.Disable();
        });
    }
}
