using System.Runtime.InteropServices;

namespace Kcov.Control;

/// <summary>
/// What sits at a path where the endpoint's socket is to be bound. A socket file left by a process
/// that died (nobody accepts on it) is replaced; anything else there is the user's and is never
/// removed. .NET cannot tell a socket file from a regular one, hence lstat(2).
/// </summary>
internal static partial class SocketFile
{
    private const uint TypeMask = 0xF000; // S_IFMT
    private const uint TypeSocket = 0xC000; // S_IFSOCK

    /// <summary>True if <paramref name="path"/> is a socket file; false if it is anything else or cannot be told.</summary>
    public static bool IsSocket(string path)
    {
        // st_mode's offset in struct stat: x86-64 has st_nlink (8 bytes) before it, the generic
        // layout (arm64) has it after. Other architectures: cannot tell, so nothing is removed.
        int modeOffset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 16,
            _ => -1,
        };
        if (!OperatingSystem.IsLinux() || modeOffset < 0)
            return false;
        Span<byte> stat = stackalloc byte[256]; // larger than struct stat on both
        try
        {
            if (lstat(path, ref MemoryMarshal.GetReference(stat)) != 0)
                return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false; // a libc older than 2.33 exports only __lxstat
        }
        uint mode = MemoryMarshal.Read<uint>(stat[modeOffset..]);
        return (mode & TypeMask) == TypeSocket;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int lstat(string path, ref byte buffer);
}
