using System.Text.RegularExpressions;
using Mono.Cecil;

namespace Kcov.Instrumentation;

/// <summary>
/// The user method that compiler-generated code belongs to, read from the names C# and VB give it:
/// lambdas <c>&lt;M&gt;b__0_0</c>, local functions <c>&lt;M&gt;g__Local|0_0</c>, async/iterator state machines
/// <c>&lt;M&gt;d__3</c> (a nested type), lambdas inside those (<c>&lt;&lt;M&gt;g__Local|0_0&gt;b__1</c>).
/// Display classes (<c>&lt;&gt;c__DisplayClass0_0</c>, <c>&lt;&gt;c</c>) belong to the type around them.
/// Overloads share a name, so code generated for one overload of M is attributed to "M".
/// </summary>
internal static partial class CodeOwner
{
    /// <summary>The user type and method name <paramref name="method"/> belongs to.</summary>
    public static (TypeDefinition Type, string Method) Of(MethodDefinition method)
    {
        string name = method.Name;
        string? owner = GeneratedFrom(name);
        var type = method.DeclaringType;
        while (IsGenerated(type) && type.DeclaringType is not null)
        {
            owner ??= GeneratedFrom(type.Name);
            type = type.DeclaringType;
        }
        return (type, owner ?? name);
    }

    /// <summary>Whether a type is compiler-generated (its name starts with '&lt;').</summary>
    public static bool IsGenerated(TypeDefinition type) => type.Name.StartsWith('<');

    /// <summary>"M" for "&lt;M&gt;b__0_0", "&lt;&lt;M&gt;g__F|0_0&gt;b__1" and "&lt;M&gt;d__3"; null for user names and "&lt;&gt;c".</summary>
    public static string? GeneratedFrom(string name)
    {
        var match = GeneratedName().Match(name);
        if (!match.Success || match.Groups[1].Length == 0)
            return null;
        return GeneratedFrom(match.Groups[1].Value) ?? match.Groups[1].Value;
    }

    /// <summary>Reflection-style full name: <c>Namespace.Outer+Inner</c>.</summary>
    public static string TypeName(TypeDefinition type) =>
        type.DeclaringType is { } outer ? TypeName(outer) + "+" + type.Name
        : type.Namespace.Length > 0 ? type.Namespace + "." + type.Name : type.Name;

    // '<' user name '>' one letter "__": C#'s generated-name kinds (b lambda, g local function, d state machine...).
    [GeneratedRegex(@"^<(.*)>[A-Za-z]__")]
    private static partial Regex GeneratedName();
}
