using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Kcov.Tests;

/// <summary>
/// The remote map and area pool are process-wide and tests run in parallel, so every test
/// takes handles (and pool sizes) no other test uses.
/// </summary>
internal static class Handles
{
    private static long s_next = 0x1000;

    public static uint NextInstance() => (uint)Interlocked.Increment(ref s_next);

    public static ulong Usb() => KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, NextInstance());

    public static ulong Common() => KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, NextInstance());

    /// <summary>A section area size (in words) no other test uses, so pool counts are this test's own.</summary>
    public static uint UniqueAreaSize() => 0x10000 + NextInstance();
}

/// <summary>A device remote-enabled on a parked "user" thread, as the kcov.rst example sets one up.</summary>
internal sealed class RemoteDevice : IDisposable
{
    public ParkedThread Owner { get; } = new();
    public KcovDevice Device { get; } = KcovDevice.Open();
    public KcovArea Area { get; }

    public RemoteDevice(int words, KcovMode mode, uint areaSize, ulong[] handles, ulong common = 0)
    {
        Device.InitTrace(words);
        Area = Device.Map();
        Owner.Run(() => Device.RemoteEnable(mode, areaSize, handles, common));
    }

    /// <summary>The entries after word 0, as many as word 0 says (whole 4-word records in cmp mode).</summary>
    public ulong[] Entries(int wordsPerEntry = 1)
    {
        var words = Area.Words;
        return words.Slice(1, (int)words[0] * wordsPerEntry).ToArray();
    }

    public void Disable() => Owner.Run(() => Device.Disable());

    public void Dispose()
    {
        Owner.Run(() =>
        {
            if (KcovTask.Current?.Kcov == Device)
                Device.Disable();
        });
        Owner.Dispose();
        Area.Dispose();
        Device.Dispose();
    }
}

/// <summary>Collects the warnings of the "Kcov" EventSource.</summary>
internal sealed class KcovWarnings : EventListener
{
    private readonly ConcurrentQueue<string> _messages = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Kcov")
            EnableEvents(source, EventLevel.Warning);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventSource.Name == "Kcov" && e.Payload is { Count: 2 } payload)
            _messages.Enqueue($"{payload[0]}: {payload[1]}");
    }

    /// <summary>Warnings that mention <paramref name="text"/> (other tests warn too, in parallel).</summary>
    public string[] About(string text) => _messages.Where(m => m.Contains(text, StringComparison.Ordinal)).ToArray();

    public string[] From(string site) => _messages.Where(m => m.StartsWith(site + ":", StringComparison.Ordinal)).ToArray();
}
