using System.Text;
using System.Text.RegularExpressions;

namespace Kcov.Instrumentation;

/// <summary>
/// A shell-style pattern for names or source paths. Names: <c>*</c> matches any text (dots included),
/// <c>?</c> one character, <c>[abc]</c>/<c>[!abc]</c> a class. Paths: <c>**</c> matches across
/// directories, <c>*</c> and <c>?</c> stay within one segment, and a pattern without <c>/</c> matches
/// the file name alone (as in .gitignore). Compiled to an anchored regex once.
/// </summary>
internal sealed class GlobPattern
{
    private readonly Regex _regex;
    private readonly bool _fileNameOnly;

    private GlobPattern(string text, Regex regex, bool fileNameOnly)
    {
        Text = text;
        _regex = regex;
        _fileNameOnly = fileNameOnly;
    }

    public string Text { get; }

    /// <exception cref="InstrumentationException">The pattern is empty or has an unclosed or empty [class].</exception>
    public static GlobPattern Parse(string pattern, bool isPath, string optionName)
    {
        if (string.IsNullOrWhiteSpace(pattern))
            throw new InstrumentationException($"Bad {optionName} pattern '{pattern}': it is empty; give a name pattern like 'MyLib.Parsing.*'.");
        string text = isPath ? pattern.Replace('\\', '/') : pattern;
        string anyInSegment = isPath ? "[^/]*" : ".*";
        string oneInSegment = isPath ? "[^/]" : ".";
        var regex = new StringBuilder("^");
        // A relative path pattern may start in any directory: "Generated/*.cs" matches "/src/Generated/A.cs".
        if (isPath && !text.StartsWith('/') && !Regex.IsMatch(text, "^[A-Za-z]:/"))
            regex.Append("(?:.*/)?");
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '*' && isPath && i + 1 < text.Length && text[i + 1] == '*')
            {
                // "**/" also matches no directory at all.
                bool slash = i + 2 < text.Length && text[i + 2] == '/';
                regex.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*')
                regex.Append(anyInSegment);
            else if (c == '?')
                regex.Append(oneInSegment);
            else if (c == '[')
            {
                int close = text.IndexOf(']', i + 1);
                if (close < 0)
                    throw new InstrumentationException($"Bad {optionName} pattern '{pattern}': '[' at position {i + 1} is never closed; close it with ']' or remove it.");
                string set = text[(i + 1)..close];
                bool negate = set.StartsWith('!');
                if (negate)
                    set = set[1..];
                if (set.Length == 0)
                    throw new InstrumentationException($"Bad {optionName} pattern '{pattern}': '[]' at position {i + 1} matches nothing; list characters inside it.");
                regex.Append('[').Append(negate ? "^" : "").Append(Regex.Escape(set).Replace("]", "\\]")).Append(']');
                i = close;
            }
            else
                regex.Append(Regex.Escape(c.ToString()));
        }
        regex.Append('$');
        bool fileNameOnly = isPath && !text.Contains('/');
        return new GlobPattern(pattern, new Regex(regex.ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline), fileNameOnly);
    }

    public bool IsMatch(string value)
    {
        if (_fileNameOnly)
            value = Path.GetFileName(value.Replace('\\', '/'));
        else if (value.Contains('\\'))
            value = value.Replace('\\', '/');
        return _regex.IsMatch(value);
    }
}
