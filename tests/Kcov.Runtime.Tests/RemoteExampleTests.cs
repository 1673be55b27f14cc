using System.Collections.Concurrent;

namespace Kcov.Tests;

/// <summary>
/// The remote coverage example of kcov.rst, in C#: the device collects from a global handle
/// (USB bus 1, served by a long-lived hub event loop that exists before the device does) and
/// from the common handle 0x42 (workers the test's own flow spawns), and from nothing else.
/// The Trace calls stand in for the instrumented code of the hub and the workers.
/// </summary>
public class RemoteExampleTests
{
    private const ulong CoverSize = 64 << 10;
    private const ulong KcovCommonId = 0x42;
    private const ulong KcovUsbBusNum = 1;

    private const ulong HubPc = 0x0b00_0000, OtherHubPc = 0x0b02_0000, WorkerPc = 0x0c00_0000, NoisePc = 0x0d00_0000;

    /// <summary>A simulated USB hub: one long-lived thread per bus handling hub events, each
    /// event a remote section under the bus's global handle (hub_event in the kernel).</summary>
    private sealed class UsbHub : IDisposable
    {
        private readonly BlockingCollection<(ulong Event, ManualResetEventSlim? Handled)> _events = new();
        private readonly Thread _thread;

        public UsbHub(ulong bus, ulong pcBase)
        {
            ulong handle = KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, bus);
            _thread = new Thread(() =>
            {
                foreach (var (e, handled) in _events.GetConsumingEnumerable())
                {
                    Remote.Start(handle);
                    Trace.Pc(pcBase | e);
                    Trace.Pc(pcBase | e | 0x8000);
                    Remote.Stop();
                    handled?.Set();
                }
            }) { IsBackground = true, Name = $"hub_event bus {bus}" };
            _thread.Start();
        }

        public void Event(ulong e, ManualResetEventSlim? handled = null) => _events.Add((e, handled));

        public void Dispose()
        {
            _events.CompleteAdding();
            _thread.Join();
        }
    }

    [Fact]
    public void TheDeviceSeesTheHubAndTheCommonHandleWorkersAndNothingElse()
    {
        // The hubs are "booted" before any device exists.
        using var hub1 = new UsbHub(KcovUsbBusNum, HubPc);
        using var hub2 = new UsbHub(2, OtherHubPc);

        Threads.RunOnFreshThread(() =>
        {
            using var device = KcovDevice.Open();
            Assert.Equal(0, device.Ioctl(KcovAbi.InitTrace, CoverSize));
            Assert.Equal(0, device.Mmap((long)CoverSize * sizeof(ulong), 0, out var mapped));
            var cover = mapped!;
            using (cover)
            {
                var arg = new KcovRemoteArg(
                    TraceMode: (uint)KcovAbi.TracePc,
                    AreaSize: (uint)CoverSize,
                    CommonHandle: KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, KcovCommonId),
                    Handles: [KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, KcovUsbBusNum)]);
                Assert.Equal(0, device.Ioctl(KcovAbi.RemoteEnable, arg.ToBytes()));

                // Trigger the annotated code: activity on both buses, workers spawned by this
                // flow (they inherit the common handle), and work that is not ours.
                using var hub1Done = new ManualResetEventSlim();
                using var hub2Done = new ManualResetEventSlim();
                for (ulong e = 1; e <= 3; e++)
                {
                    hub1.Event(e, e == 3 ? hub1Done : null);
                    hub2.Event(e, e == 3 ? hub2Done : null);
                }
                var workers = Enumerable.Range(1, 4).Select(w => Task.Run(() =>
                {
                    Remote.Start(Remote.CommonHandle);
                    Trace.Pc(WorkerPc | (ulong)w);
                    Remote.Stop();
                })).ToArray();
                using (ExecutionContext.SuppressFlow())
                {
                    // Spawned without our context: no common handle, so a section does nothing.
                    Task.Run(() =>
                    {
                        Remote.Start(Remote.CommonHandle);
                        Trace.Pc(NoisePc | 1);
                        Remote.Stop();
                    }).Wait();
                }
                Trace.Pc(NoisePc | 2); // this thread is wired to the device but collects nothing itself
                Task.WaitAll(workers);
                // Hubs handle events in order: the last one handled means all were.
                hub1Done.Wait();
                hub2Done.Wait();

                ulong n = Volatile.Read(ref cover.Words[0]);
                var pcs = cover.Words.Slice(1, (int)n).ToArray();
                Assert.Equal(0, device.Ioctl(KcovAbi.Disable, 0));

                ulong[] expected =
                [
                    HubPc | 1, HubPc | 1 | 0x8000, HubPc | 2, HubPc | 2 | 0x8000, HubPc | 3, HubPc | 3 | 0x8000,
                    WorkerPc | 1, WorkerPc | 2, WorkerPc | 3, WorkerPc | 4,
                ];
                Assert.Equal(expected.Order(), pcs.Order());
                // A hub event's section is appended whole, in order.
                for (ulong e = 1; e <= 3; e++)
                {
                    int at = Array.IndexOf(pcs, HubPc | e);
                    Assert.Equal(HubPc | e | 0x8000, pcs[at + 1]);
                }
            }
        });
    }
}
