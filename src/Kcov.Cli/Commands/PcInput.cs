using Kcov.Coverage;

namespace Kcov.Cli.Commands;

/// <summary>What symbolize and report read: the maps of a directory, and PCs from a file or stdin.</summary>
internal static class PcInput
{
    public static Symbolizer LoadMaps(string directory)
    {
        try
        {
            return Symbolizer.LoadDirectory(directory);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException(e.Message, e);
        }
    }

    /// <summary>All PCs of <paramref name="file"/> ("-" or null: stdin).</summary>
    public static List<ulong> Read(string? file, TextReader stdin)
    {
        try
        {
            if (file is null or "-")
                return [.. PcList.Read(stdin, "stdin")];
            if (!File.Exists(file))
                throw new UserErrorException($"PC file '{file}' does not exist; pass the output of `dotnet kcov run -o FILE`, or - for stdin.");
            using var reader = new StreamReader(file);
            return [.. PcList.Read(reader, file)];
        }
        catch (FormatException e)
        {
            throw new UserErrorException(e.Message, e);
        }
    }
}
