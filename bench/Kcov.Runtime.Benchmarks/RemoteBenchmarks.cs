using BenchmarkDotNet.Attributes;

namespace Kcov.Benchmarks;

/// <summary>
/// Remote coverage costs: a kcov_remote_start/stop pair, the context-switch hook an await
/// pays inside a section, and the trace path inside a section against KCOV_ENABLE.
/// A "user" thread holds the remote-enabled device, as in kcov.rst's example.
/// </summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public class RemoteBenchmarks
{
    private const int Calls = 1024;
    private const int Awaits = 64;

    private static readonly ulong Held = KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, 0xbe7c);
    private static readonly ulong NotHeld = KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, 0xbe7d);

    private Thread? _owner;
    private readonly ManualResetEventSlim _stopOwner = new();
    private KcovDevice? _remote;
    private KcovArea? _remoteArea;

    [GlobalSetup]
    public void Setup()
    {
        _remote = KcovDevice.Open();
        _remote.InitTrace(1 << 20);
        _remoteArea = _remote.Map();
        using var enabled = new ManualResetEventSlim();
        _owner = new Thread(() =>
        {
            _remote.RemoteEnable(KcovMode.TracePc, Calls + 1, [Held]);
            enabled.Set();
            _stopOwner.Wait();
            _remote.Disable();
        });
        _owner.Start();
        enabled.Wait();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stopOwner.Set();
        _owner!.Join();
        _remoteArea!.Dispose();
        _remote!.Dispose();
    }

    /// <summary>kcov_remote_start + kcov_remote_stop with an empty section: pool get/put, two references, the move.</summary>
    [Benchmark]
    public void StartStop()
    {
        Remote.Start(Held);
        Remote.Stop();
        _remoteArea!.Words[0] = 0;
    }

    /// <summary>The same through the using-scope form.</summary>
    [Benchmark]
    public void SectionScope()
    {
        using (Remote.Section(Held)) { }
        _remoteArea!.Words[0] = 0;
    }

    /// <summary>A start with a handle no device holds: the price annotated code pays when nobody collects.</summary>
    [Benchmark]
    public void StartStopNotHeld()
    {
        Remote.Start(NotHeld);
        Remote.Stop();
    }

    /// <summary>Awaits that hop to the thread pool, outside any section: the baseline for the hook.</summary>
    [Benchmark(OperationsPerInvoke = Awaits)]
    public Task AwaitOutsideSection() => Task.Run(YieldMany);

    /// <summary>The same awaits inside a section: each hop leaves one thread (moving its part) and enters another.</summary>
    [Benchmark(OperationsPerInvoke = Awaits)]
    public Task AwaitInsideSection() => Task.Run(async () =>
    {
        using (Remote.Section(Held))
            await YieldMany();
        _remoteArea!.Words[0] = 0;
    });

    private static async Task YieldMany()
    {
        for (int i = 0; i < Awaits; i++)
        {
            Trace.Pc((ulong)i);
            await Task.Yield();
        }
    }
}

/// <summary>The trace path on a thread in a remote section against one bound by KCOV_ENABLE.</summary>
[MemoryDiagnoser, MinColumn, MedianColumn]
public unsafe class SectionTracePathBenchmarks
{
    private const int Calls = 1024;
    private static readonly ulong Held = KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, 0xbe7e);

    private Thread? _owner;
    private readonly ManualResetEventSlim _stopOwner = new();
    private KcovDevice? _device;
    private KcovArea? _area;

    [Params("KCOV_ENABLE", "remote section")]
    public string Binding { get; set; } = "KCOV_ENABLE";

    [GlobalSetup]
    public void Setup()
    {
        _device = KcovDevice.Open();
        _device.InitTrace(Calls + 1);
        _area = _device.Map();
        if (Binding == "KCOV_ENABLE")
        {
            _device.Enable(KcovMode.TracePc);
            return;
        }
        using var enabled = new ManualResetEventSlim();
        _owner = new Thread(() =>
        {
            _device.RemoteEnable(KcovMode.TracePc, Calls + 1, [Held]);
            enabled.Set();
            _stopOwner.Wait();
            _device.Disable();
        });
        _owner.Start();
        enabled.Wait();
        // This thread stays inside the section for the whole run.
        Remote.Start(Held);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_owner is null)
        {
            _device!.Disable();
        }
        else
        {
            Remote.Stop();
            _stopOwner.Set();
            _owner.Join();
        }
        _area!.Dispose();
        _device!.Dispose();
    }

    [Benchmark(OperationsPerInvoke = Calls)]
    public void Pc()
    {
        for (ulong i = 0; i < Calls; i++)
            Trace.Pc(i);
        // Whichever area this thread writes (the device's or its section part's), start it over.
        KcovTask.Current!.Area[0] = 0;
    }
}
