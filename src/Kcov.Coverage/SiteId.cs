using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Kcov.Coverage;

/// <summary>
/// The PC of an instrumented site: kcov's <c>_RET_IP_</c> for .NET. The high 32 bits name
/// the module (a hash of the input module's identity, never 0), the low 32 bits are the
/// site's dense index in the module's PC map. Nothing in a PC depends on where or when the
/// module was instrumented or loaded, so the same input bytes give the same PCs everywhere.
/// </summary>
public static class SiteId
{
    /// <summary>The PC of site <paramref name="siteIndex"/> in module <paramref name="moduleId"/>.</summary>
    public static ulong Pc(uint moduleId, int siteIndex) => (ulong)moduleId << 32 | (uint)siteIndex;

    /// <summary>The module id in the high half of a PC.</summary>
    public static uint ModuleOf(ulong pc) => (uint)(pc >> 32);

    /// <summary>The site index in the low half of a PC.</summary>
    public static int IndexOf(ulong pc) => unchecked((int)(uint)pc);

    /// <summary>
    /// The module id of an input module: the first four bytes of SHA-256 over its assembly
    /// name and MVID. The MVID alone would do for compilers that hash the content into it
    /// (deterministic builds); the name keeps ids apart for the few that do not.
    /// 0 is reserved (a PC of 0 means "none" to kcov tools), so it maps to 1.
    /// </summary>
    public static uint ModuleIdFor(string assemblyName, Guid mvid)
    {
        var name = Encoding.UTF8.GetBytes(assemblyName);
        var buffer = new byte[name.Length + 16];
        name.CopyTo(buffer, 0);
        mvid.TryWriteBytes(buffer.AsSpan(name.Length));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(buffer, hash);
        uint id = BinaryPrimitives.ReadUInt32LittleEndian(hash);
        return id == 0 ? 1 : id;
    }
}
