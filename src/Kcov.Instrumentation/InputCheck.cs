using System.Reflection.PortableExecutable;

namespace Kcov.Instrumentation;

/// <summary>
/// Tells what a file is before Cecil reads it, so that each kind of wrong input gets its own clear
/// message instead of a reader exception: missing, not a PE image at all, a native DLL, truncated.
/// </summary>
internal static class InputCheck
{
    /// <summary>
    /// Checks the file's PE and CLI headers (only those are read: Cecil reads the whole file next);
    /// returns its length in bytes.
    /// </summary>
    /// <exception cref="InstrumentationException">The file cannot be a .NET assembly; the message says why.</exception>
    public static long CheckAssemblyFile(string path)
    {
        if (Directory.Exists(path))
            throw new InstrumentationException($"'{path}' is a directory; pass the assembly file (.dll or .exe) inside it.");
        if (!File.Exists(path))
            throw new InstrumentationException($"'{path}' does not exist; check the path of the assembly to instrument.");
        FileStream file;
        try
        {
            file = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InstrumentationException($"'{path}' cannot be read ({e.Message}).", e);
        }
        long length = file.Length;
        using var pe = new PEReader(file);
        PEHeaders headers;
        try
        {
            headers = pe.PEHeaders;
        }
        catch (BadImageFormatException)
        {
            throw new InstrumentationException($"'{path}' is not a .NET assembly: it is not a PE file at all (random bytes, text, or an ELF binary?).");
        }
        if (headers.CorHeader is null)
            throw new InstrumentationException($"'{path}' is a native binary, not a .NET assembly: it has no CLI header, so there is no IL to instrument.");
        long end = headers.SectionHeaders.Select(s => (long)s.PointerToRawData + s.SizeOfRawData).DefaultIfEmpty(0).Max();
        if (end > length)
            throw new InstrumentationException($"'{path}' is truncated: its sections end at byte {end} but the file has {length}; rebuild or copy it again.");
        // ReadyToRun images clear ILOnly too, but keep all their IL: those can be instrumented (their native code is dropped).
        bool readyToRun = headers.CorHeader.ManagedNativeHeaderDirectory.Size > 0;
        if ((headers.CorHeader.Flags & CorFlags.ILOnly) == 0 && !readyToRun)
            throw new InstrumentationException($"'{path}' is a mixed-mode assembly (native code inside, e.g. C++/CLI); kcov instruments IL-only assemblies.");
        return length;
    }
}
