namespace HelloParser;

/// <summary>
/// Reads an INI-like file: [section] headers, key = value pairs, # comments. Prints what it found.
/// Each input takes its own path through these branches, which `kcov run` shows.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: HelloParser <file>");
            return 2;
        }
        int errors = 0;
        string section = "";
        foreach (string raw in File.ReadAllLines(args[0]))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
                continue;
            if (line[0] == '[')
                section = ParseSection(line);
            else if (!ParsePair(section, line))
                errors++;
        }
        return errors == 0 ? 0 : 1;
    }

    private static string ParseSection(string line)
    {
        if (line[^1] != ']')
        {
            Console.WriteLine("unclosed section: " + line);
            return line[1..];
        }
        return line[1..^1];
    }

    private static bool ParsePair(string section, string line)
    {
        int equals = line.IndexOf('=');
        if (equals <= 0)
        {
            Console.WriteLine("not a key = value pair: " + line);
            return false;
        }
        string key = line[..equals].Trim();
        string value = line[(equals + 1)..].Trim();
        if (int.TryParse(value, out int number))
            Console.WriteLine(section + "." + key + " = " + number + " (number)");
        else
            Console.WriteLine(section + "." + key + " = " + value);
        return true;
    }
}
