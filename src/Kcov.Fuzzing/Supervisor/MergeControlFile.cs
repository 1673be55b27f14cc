using System.Globalization;
using System.Text;

namespace Kcov.Fuzzing.Supervisor;

/// <summary>
/// libFuzzer's merge control file (-merge_control_file), in its format, so that a merge killed
/// half way goes on where it stopped and a second merge reuses what the first computed
/// (ClusterFuzz's two-step merge):
/// <code>
/// 3              the number of inputs
/// 1              how many of them are in the first (output) corpus
/// out/a          one path per line
/// in/b
/// in/c
/// STARTED 0 12   before input 0 (12 bytes) runs
/// FT 0 4 9 17    its features, once it ran
/// COV 0 4 9      its PCs ("cov:")
/// STARTED 1 40   no FT after it: input 1 crashed, hung or ran out of memory
/// </code>
/// Feature and PC numbers are Kcov.Fuzzing's (<see cref="Feedback.Signal"/>), not libFuzzer's.
/// </summary>
internal sealed class MergeControlFile : IDisposable
{
    private readonly string _path;
    private FileStream? _appender;

    private MergeControlFile(string path, List<string> files, int inFirstCorpus)
    {
        _path = path;
        Files = files;
        InFirstCorpus = inFirstCorpus;
    }

    /// <summary>The inputs, first corpus first.</summary>
    public List<string> Files { get; }

    public int InFirstCorpus { get; }

    /// <summary>Features and PCs of each input that ran to its end, by index.</summary>
    public Dictionary<int, (uint[] Features, uint[] Cov)> Results { get; } = [];

    /// <summary>Size of each input started, by index.</summary>
    public Dictionary<int, int> Sizes { get; } = [];

    /// <summary>Inputs started: the next one to run is this index.</summary>
    public int Started { get; private set; }

    /// <summary>Whether the last input started never finished (it crashed the previous merge).</summary>
    public bool LastFailed => Started > 0 && !Results.ContainsKey(Started - 1);

    /// <summary>Whether every input has been started.</summary>
    public bool Complete => Started >= Files.Count;

    /// <summary>Starts a control file for <paramref name="files"/>, replacing whatever was at <paramref name="path"/>.</summary>
    public static MergeControlFile Create(string path, List<string> files, int inFirstCorpus)
    {
        var text = new StringBuilder();
        text.Append(files.Count).Append('\n').Append(inFirstCorpus).Append('\n');
        foreach (var file in files)
            text.Append(file).Append('\n');
        File.WriteAllText(path, text.ToString());
        return new MergeControlFile(path, files, inFirstCorpus);
    }

    /// <summary>Reads a control file; null if it is missing, empty or not in the format (libFuzzer then starts over too).</summary>
    public static MergeControlFile? TryRead(string path)
    {
        if (!File.Exists(path))
            return null;
        var lines = File.ReadAllText(path).Split('\n');
        if (lines.Length < 2 || !int.TryParse(lines[0], NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count <= 0
            || !int.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out int first) || first > count || lines.Length < 2 + count)
            return null;
        var file = new MergeControlFile(path, [.. lines.Skip(2).Take(count)], first);
        foreach (var line in lines.Skip(2 + count).Where(l => l.Length > 0))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || !int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                return null;
            var numbers = words.Skip(2).Select(w => uint.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) ? n : (uint?)null).ToList();
            if (numbers.Any(n => n is null))
                return null;
            switch (words[0])
            {
                case "STARTED" when index == file.Started && index < count && numbers.Count == 1:
                    file.Sizes[index] = (int)Math.Min(numbers[0]!.Value, int.MaxValue);
                    file.Started++;
                    break;
                case "FT" when index == file.Started - 1:
                    file.Results[index] = ([.. numbers.Select(n => n!.Value)], []);
                    break;
                case "COV" when index == file.Started - 1 && file.Results.TryGetValue(index, out var result):
                    file.Results[index] = (result.Features, [.. numbers.Select(n => n!.Value)]);
                    break;
                default:
                    return null;
            }
        }
        return file;
    }

    /// <summary>Appends what input <paramref name="index"/> did: its features and PCs, or (null) that it failed.</summary>
    public void Append(int index, int size, uint[]? features, uint[] cov)
    {
        var text = new StringBuilder(FormattableString.Invariant($"STARTED {index} {size}\n"));
        if (features is not null)
        {
            text.Append("FT ").Append(index);
            foreach (uint f in features)
                text.Append(' ').Append(f);
            text.Append("\nCOV ").Append(index);
            foreach (uint pc in cov)
                text.Append(' ').Append(pc);
            text.Append('\n');
            Results[index] = (features, cov);
        }
        // Written through per input (libFuzzer flushes per input too): a merge killed at any
        // point leaves a file that says how far it got.
        _appender ??= new FileStream(_path, FileMode.Append, FileAccess.Write);
        _appender.Write(Encoding.UTF8.GetBytes(text.ToString()));
        _appender.Flush();
        Sizes[index] = size;
        Started = Math.Max(Started, index + 1);
    }

    public void Dispose() => _appender?.Dispose();
}
