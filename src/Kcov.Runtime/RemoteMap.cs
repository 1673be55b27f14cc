namespace Kcov;

/// <summary>
/// kcov's process-wide remote state: the map from handles to the devices that registered
/// them (kcov_remote_map), and the subsystems whose handles are valid. All of it is guarded
/// by <see cref="Lock"/> (kcov_remote_lock), which also guards the area pool
/// (<see cref="RemoteAreaPool"/>). Lock order, as in kcov.c: a device's lock, then this one.
/// </summary>
internal static class RemoteMap
{
    /// <summary>kcov_remote_lock: guards s_devices, s_subsystems and the area pool.</summary>
    internal static readonly object Lock = new();

    private static readonly Dictionary<ulong, KcovDevice> s_devices = [];

    /// <summary>Subsystem id (the handle's top byte) to name. 0 is common; 1 is USB, as in kcov.</summary>
    private static readonly Dictionary<byte, string> s_subsystems = new() { [0] = "common", [1] = "usb" };

    /// <summary>kcov_remote_find(). Caller holds <see cref="Lock"/>.</summary>
    internal static KcovDevice? Find(ulong handle) => s_devices.GetValueOrDefault(handle);

    /// <summary>kcov_remote_add(): false (EEXIST) if any device holds the handle. Caller holds <see cref="Lock"/>.</summary>
    internal static bool TryAdd(ulong handle, KcovDevice device) => s_devices.TryAdd(handle, device);

    /// <summary>The handle-removing half of kcov_remote_reset(). Caller holds <see cref="Lock"/>.</summary>
    internal static void RemoveAll(KcovDevice device)
    {
        foreach (var (handle, holder) in s_devices)
        {
            if (holder == device)
                s_devices.Remove(handle);
        }
    }

    /// <summary>The device holding <paramref name="handle"/>, for tests.</summary>
    internal static KcovDevice? Holder(ulong handle)
    {
        lock (Lock)
            return Find(handle);
    }

    /// <summary>
    /// kcov_check_handle(). Reserved bytes (4..6) must be zero and the subsystem known; a
    /// common-subsystem handle is valid as <paramref name="commonValid"/> when its instance is
    /// non-zero and as <paramref name="zeroValid"/> when it is 0; any other known subsystem
    /// is valid as <paramref name="uncommonValid"/>.
    /// </summary>
    internal static bool CheckHandle(ulong handle, bool commonValid, bool uncommonValid, bool zeroValid)
    {
        if ((handle & ~(KcovAbi.SubsystemMask | KcovAbi.InstanceMask)) != 0)
            return false;
        byte subsystem = (byte)(handle >> 56);
        if (subsystem == 0)
            return (handle & KcovAbi.InstanceMask) != 0 ? commonValid : zeroValid;
        lock (Lock)
            return s_subsystems.ContainsKey(subsystem) && uncommonValid;
    }

    /// <summary>Registers a subsystem id; the same id with the same name again is a no-op.</summary>
    internal static void RegisterSubsystem(byte id, string name)
    {
        lock (Lock)
        {
            if (s_subsystems.TryGetValue(id, out var existing))
            {
                if (existing != name)
                    throw new InvalidOperationException(
                        $"Subsystem id {id} is already registered as '{existing}'; pick another id (2..255) for '{name}'.");
                return;
            }
            s_subsystems.Add(id, name);
        }
    }
}
