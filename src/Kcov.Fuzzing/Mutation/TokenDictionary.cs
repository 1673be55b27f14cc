using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Mutation;

/// <summary>Dictionary tokens: from a -dict file (libFuzzer/AFL format) and from the target's string literals.</summary>
internal static class TokenDictionary
{
    /// <summary>Kcov.NET's own assemblies, which reference the runtime without being targets.</summary>
    private static readonly HashSet<string> OwnAssemblies =
        ["Kcov.Fuzzing.dll", "Kcov.Coverage.dll", "Kcov.Instrumentation.dll", "dotnet-kcov.dll", "Kcov.Control.dll", "Kcov.AspNetCore.dll"];

    /// <summary>
    /// Parses a dictionary file: one token per line, <c>name="value"</c> or <c>"value"</c>,
    /// with <c>\\</c>, <c>\"</c> and <c>\xNN</c> escapes; blank lines and <c>#</c> comments are skipped.
    /// </summary>
    public static List<byte[]> Parse(string path)
    {
        if (!File.Exists(path))
            throw new FuzzerUsageException($"dictionary file '{path}' does not exist; fix the -dict= path");
        var tokens = new List<byte[]>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNo++;
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
                continue;
            int first = line.IndexOf('"');
            int last = line.LastIndexOf('"');
            if (first < 0 || last <= first)
                throw new FuzzerUsageException($"{path}:{lineNo}: a dictionary line is name=\"value\" or \"value\"; this one has no quoted value");
            tokens.Add(Unescape(line[(first + 1)..last], path, lineNo));
        }
        return tokens;
    }

    private static byte[] Unescape(string text, string path, int lineNo)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < text.Length; i++)
        {
            char ch = text[i];
            if (ch != '\\')
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(ch.ToString()));
                continue;
            }
            if (i + 1 < text.Length && (text[i + 1] == '\\' || text[i + 1] == '"'))
            {
                bytes.Add((byte)text[++i]);
            }
            else if (i + 3 < text.Length && text[i + 1] == 'x'
                && byte.TryParse(text.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
            {
                bytes.Add(b);
                i += 3;
            }
            else
            {
                throw new FuzzerUsageException($"{path}:{lineNo}: bad escape at column {i + 1}; use \\\\, \\\" or \\xNN");
            }
        }
        return [.. bytes];
    }

    /// <summary>
    /// The string literals (ldstr) of the instrumented assemblies loaded in this process (those that
    /// reference Kcov.Runtime), as UTF-8 tokens: the .NET stand-in for libFuzzer's strcmp hooks,
    /// since a keyword compared by string.Equals runs in CoreLib, which is not instrumented. Called
    /// once the target has run, so the assemblies it uses are loaded, and only those: a library that
    /// sits next to the harness but is not used would only dilute the dictionary.
    /// </summary>
    public static List<byte[]> FromLoadedAssemblies() =>
        FromAssemblies(AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => !a.IsDynamic && a.Location.Length > 0)
            .Select(a => a.Location)
            .Order(StringComparer.Ordinal));

    /// <summary>The literals of those of <paramref name="paths"/> that reference Kcov.Runtime.</summary>
    public static List<byte[]> FromAssemblies(IEnumerable<string> paths, int maxTokens = 10_000)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tokens = new List<byte[]>();
        foreach (var path in paths)
        {
            if (OwnAssemblies.Contains(Path.GetFileName(path)))
                continue;
            try
            {
                using var pe = new PEReader(File.OpenRead(path));
                if (!pe.HasMetadata)
                    continue;
                var md = pe.GetMetadataReader();
                if (!md.AssemblyReferences.Any(r => md.GetString(md.GetAssemblyReference(r).Name) == "Kcov.Runtime"))
                    continue;
                var handle = MetadataTokens.UserStringHandle(1);
                while (!handle.IsNil && tokens.Count < maxTokens)
                {
                    string s = md.GetUserString(handle);
                    if (s.Length is >= 2 and <= 64 && seen.Add(s))
                        tokens.Add(Encoding.UTF8.GetBytes(s));
                    handle = md.GetNextHandle(handle);
                }
            }
            catch (Exception e) when (e is BadImageFormatException or IOException or UnauthorizedAccessException)
            {
                // Not a readable .NET assembly: nothing to take from it.
            }
        }
        return tokens;
    }
}
