namespace Kcov;

// The idiomatic face of the device: the same calls as the ioctl-shaped face, throwing a
// KcovException (with the errno and a reason) where that face returns a negative errno.
public sealed partial class KcovDevice
{
    /// <summary>Opens a device, sizes it, maps it and binds it to the calling thread in one step.</summary>
    /// <param name="words">Area size in 64-bit words, word 0 included.</param>
    /// <param name="mode">What to collect.</param>
    /// <param name="area">The mapped area to read coverage from.</param>
    public static KcovDevice OpenEnabled(int words, KcovMode mode, out KcovArea area)
    {
        var device = Open();
        try
        {
            device.InitTrace(words);
            area = device.Map();
            try
            {
                device.Enable(mode);
            }
            catch
            {
                area.Dispose();
                throw;
            }
            return device;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>KCOV_INIT_TRACE: sets the area size in 64-bit words (2 to int.MaxValue/8), once.</summary>
    public void InitTrace(int words) =>
        Check(IoctlChecked(KcovAbi.InitTrace, unchecked((ulong)words), out var why), "KCOV_INIT_TRACE", why);

    /// <summary>mmap: a view of the whole area. Dispose the view when done reading.</summary>
    public KcovArea Map()
    {
        long bytes;
        lock (_lock)
            bytes = (long)_size * sizeof(ulong);
        Check(MmapChecked(bytes, 0, out var area, out var why), "mmap", why);
        return area!;
    }

    /// <summary>KCOV_ENABLE: binds the calling thread; its code is traced into the area from now on.</summary>
    public void Enable(KcovMode mode) =>
        Check(IoctlChecked(KcovAbi.Enable, (ulong)mode, out var why), "KCOV_ENABLE", why);

    /// <summary>
    /// KCOV_UNIQUE_ENABLE: binds the calling thread in unique mode. The first
    /// <paramref name="bitmapWords"/> words of the area become a bitmap (one bit per instrumented
    /// site, <see cref="Trace.SiteBits"/> in all), the rest is the trace: its word 0
    /// (<c>area.Words[bitmapWords]</c>) counts the PCs that follow, and each block's PC is written
    /// only the first time the block runs after a reset. Reset with <see cref="ResetTrace"/>, or by
    /// zeroing the bitmap and that count word.
    /// </summary>
    public void EnableUnique(int bitmapWords) =>
        Check(IoctlChecked(KcovAbi.UniqueEnable, unchecked((ulong)bitmapWords), out var why), "KCOV_UNIQUE_ENABLE", why);

    /// <summary>KCOV_RESET_TRACE: from the bound thread, clears the trace's count and, in unique mode, the bitmap.</summary>
    public void ResetTrace() =>
        Check(IoctlChecked(KcovAbi.ResetTrace, 0, out var why), "KCOV_RESET_TRACE", why);

    /// <summary>KCOV_DISABLE: unbinds the calling thread, which must be the one that enabled the device.</summary>
    public void Disable() =>
        Check(IoctlChecked(KcovAbi.Disable, 0, out var why), "KCOV_DISABLE", why);

    /// <summary>
    /// KCOV_REMOTE_ENABLE: collect, in <paramref name="mode"/>, the coverage of remote sections
    /// started with any of <paramref name="handles"/> (global handles, e.g.
    /// <c>KcovAbi.RemoteHandle(KcovAbi.SubsystemUsb, 1)</c>) or with <paramref name="commonHandle"/>
    /// (<c>KcovAbi.RemoteHandle(KcovAbi.SubsystemCommon, id)</c>, or 0 for none), which becomes
    /// the calling flow's <see cref="Remote.CommonHandle"/>. Each section writes an area of
    /// <paramref name="areaSize"/> words, appended to this device's area when it stops.
    /// </summary>
    public void RemoteEnable(KcovMode mode, uint areaSize, ReadOnlySpan<ulong> handles, ulong commonHandle = 0)
    {
        var arg = new KcovRemoteArg((uint)mode, areaSize, commonHandle, handles.ToArray());
        Check(IoctlChecked(KcovAbi.RemoteEnable, arg.ToBytes(), out var why), "KCOV_REMOTE_ENABLE", why);
    }

    private static void Check(int result, string operation, string? why)
    {
        if (result < 0)
            throw KcovException.For(-result, operation, why ?? "no reason recorded");
    }
}
