using System.Collections.Concurrent;
using Kcov;

namespace RemoteExample;

/// <summary>
/// A simulated USB hub event loop: one long-lived thread per bus, like the kernel's
/// hub_event worker. Each event is handled inside a remote section under the bus's global
/// handle, so a device that registered that handle collects exactly the event handling.
/// </summary>
public sealed class UsbHub : IDisposable
{
    private readonly BlockingCollection<(byte[] Descriptor, TaskCompletionSource Handled)> _events = new();
    private readonly Thread _thread;
    private readonly ulong _handle;

    public UsbHub(ulong bus)
    {
        _handle = KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, bus);
        _thread = new Thread(EventLoop) { IsBackground = true, Name = $"hub_event bus {bus}" };
        _thread.Start();
    }

    /// <summary>A device appears on the bus; completes when the hub has handled it.</summary>
    public Task Plug(byte[] descriptor)
    {
        var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _events.Add((descriptor, handled));
        return handled.Task;
    }

    private void EventLoop()
    {
        foreach (var (descriptor, handled) in _events.GetConsumingEnumerable())
        {
            Remote.Start(_handle);
            string kind = HubEvent(descriptor);
            Remote.Stop();
            handled.SetResult();
            _ = kind;
        }
    }

    /// <summary>Parses a device descriptor the way a hub driver would look at one.</summary>
    private static string HubEvent(byte[] descriptor)
    {
        if (descriptor.Length < 8 || descriptor[1] != 0x01)
            return "not a device descriptor";
        int usbVersion = descriptor[2] | descriptor[3] << 8;
        if (usbVersion >= 0x0300)
            return "superspeed device";
        return descriptor[4] == 0x09 ? "hub" : "device";
    }

    public void Dispose()
    {
        _events.CompleteAdding();
        _thread.Join();
    }
}
