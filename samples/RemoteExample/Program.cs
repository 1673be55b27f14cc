// The remote coverage example of Documentation/dev-tools/kcov.rst, in C#.
//
// The "kernel" of this program is UsbHub (a global worker started before anyone collects,
// whose event handling is annotated with the global handle of USB bus 1) and VhostWorker
// (work the collecting flow spawns; it runs under the common handle it inherits). The
// "user space" is Main: it opens a device, remote-enables it for both handles, triggers some
// activity and prints the PCs it collected, one per line, as the C example does.
using Kcov;
using RemoteExample;

const int CoverSize = 64 << 10;
const ulong KcovCommonId = 0x42;
const ulong KcovUsbBusNum = 1;

// Booted before the device exists, like hub_event's thread.
using var hub = new UsbHub(KcovUsbBusNum);

using var device = KcovDevice.Open();
Check(device.Ioctl(KcovAbi.InitTrace, CoverSize), "ioctl(KCOV_INIT_TRACE)");
Check(device.Mmap(CoverSize * sizeof(ulong), 0, out var cover), "mmap");
using (cover)
{
    // Enable coverage collection via the common handle and from USB bus #1.
    var arg = new KcovRemoteArg(
        TraceMode: (uint)KcovAbi.TracePc,
        AreaSize: CoverSize,
        CommonHandle: KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, KcovCommonId),
        Handles: [KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, KcovUsbBusNum)]);
    Check(device.Ioctl(KcovAbi.RemoteEnable, arg.ToBytes()), "ioctl(KCOV_REMOTE_ENABLE)");

    // Trigger the annotated code: a device plugged into bus #1, and workers this flow spawns.
    hub.Plug([0x12, 0x01, 0x00, 0x02, 0x09, 0x00, 0x00, 0x40]).Wait();
    // Wait without awaiting: the device is bound to this thread, and KCOV_DISABLE must come from it.
    Task.WaitAll(VhostWorker.Start("vhost-net 0"), VhostWorker.Start("vhost-scsi 1"));

    ulong n = Volatile.Read(ref cover!.Words[0]);
    for (ulong i = 0; i < n; i++)
        Console.WriteLine($"0x{cover.Words[(int)i + 1]:x}");
    Check(device.Ioctl(KcovAbi.Disable, 0), "ioctl(KCOV_DISABLE)");
}
return 0;

static void Check(int result, string what)
{
    if (result < 0)
    {
        Console.Error.WriteLine($"{what}: {Errno.Name(result)}");
        Environment.Exit(1);
    }
}
