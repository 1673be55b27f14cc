using System.Security.Cryptography;
using Kcov.Coverage;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Corpus;

/// <summary>Corpus directories on disk: inputs are files named by the SHA-1 of their content, written atomically.</summary>
internal static class CorpusDirectory
{
    public static string Sha1(ReadOnlySpan<byte> input) => Convert.ToHexStringLower(SHA1.HashData(input));

    /// <summary>Every file under the directories (recursively, in a stable order), content-deduplicated.</summary>
    public static List<byte[]> Load(IEnumerable<string> directories, int maxLen, out int files)
    {
        var seen = new HashSet<string>();
        var inputs = new List<byte[]>();
        files = 0;
        foreach (var dir in directories)
        {
            if (!Directory.Exists(dir))
                continue;
            foreach (var path in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                // Our own temporary files (AtomicFile) of a write that was cut short.
                if (Path.GetFileName(path).StartsWith('.'))
                    continue;
                files++;
                byte[] data = ReadInput(path);
                if (maxLen > 0 && data.Length > maxLen)
                    data = data[..maxLen];
                if (seen.Add(Sha1(data)))
                    inputs.Add(data);
            }
        }
        return inputs;
    }

    /// <summary>Saves an input as &lt;dir&gt;/&lt;sha1&gt;; returns the path.</summary>
    public static string Save(string directory, ReadOnlySpan<byte> input)
    {
        string path = Path.Combine(directory, Sha1(input));
        if (!File.Exists(path))
        {
            byte[] bytes = input.ToArray();
            // Not flushed to disk: atomic against a killed process, and thousands per second possible.
            AtomicFile.Write(path, stream =>
            {
                stream.Write(bytes, 0, bytes.Length / 2);
                if (FaultInjection.Hit("corpus-save"))
                {
                    stream.Flush();
                    FaultInjection.Act("corpus-save", path);
                }
                stream.Write(bytes, bytes.Length / 2, bytes.Length - bytes.Length / 2);
            }, flushToDisk: false);
        }
        return path;
    }

    public static byte[] ReadInput(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FuzzerUsageException($"cannot read input '{path}': {e.Message}");
        }
    }
}
