using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Kcov.Control;

/// <summary>
/// Who is at the other end of a Unix domain socket (Linux's SO_PEERCRED), and who we are. The
/// socket file's owner-only mode keeps other users out, except root, to whom file modes do not
/// apply; checking the peer's user too makes the endpoint the service user's alone, as debugfs's
/// kcov file is root's alone. .NET has no API for either, hence the socket option and geteuid(2).
/// </summary>
internal static partial class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The effective user id of this process.</summary>
    public static uint EffectiveUserId => geteuid();

    /// <summary>The user id of the process that connected <paramref name="socket"/>, or null where the system cannot tell.</summary>
    public static uint? PeerUserId(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        Span<byte> ucred = stackalloc byte[12];
        int length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        return length >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]) : null;
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
