using System.Reflection;
using System.Text;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// Call-site hooks (trace-cmp for CoreLib's string, span, collection, enum and number comparisons):
/// each hooked form records its two operands as a data record in trace-cmp mode, and returns and
/// throws exactly what the original call does.
/// </summary>
public sealed class CallSiteHookTests : IDisposable
{
    private const string Source = """
        using System;
        using System.Collections.Generic;
        public enum Color { Red, Green, Blue }
        public static class Hooked
        {
            static readonly Dictionary<string, int> s_map = new() { ["alpha"] = 1, ["beta"] = 2 };
            static readonly HashSet<string> s_set = new() { "gamma" };
            public static bool Eq(string a) => a == "KCOVNET/2.0";
            public static bool Ne(string a) => a != "unequal";
            public static bool EqInstance(string a) => a.Equals("hello");
            public static bool EqIgnoreCase(string a) => string.Equals(a, "World", StringComparison.OrdinalIgnoreCase);
            public static int CompareOrdinal(string a) => Math.Sign(string.CompareOrdinal(a, "mmm"));
            public static bool Starts(string a) => a.StartsWith("pre", StringComparison.Ordinal);
            public static bool Ends(string a) => a.EndsWith(".txt", StringComparison.Ordinal);
            public static bool Has(string a) => a.Contains("needle");
            public static int Index(string a) => a.IndexOf("idx", StringComparison.Ordinal);
            public static bool PdfHeader(string a) => System.Text.Encoding.Latin1.GetBytes(a).AsSpan().StartsWith("%PDF-1."u8);
            public static bool SpanEquals(string a) => ((ReadOnlySpan<byte>)System.Text.Encoding.Latin1.GetBytes(a)).SequenceEqual("MAGIC"u8);
            public static bool CharSpan(string a) => a.AsSpan().Equals("abc", StringComparison.OrdinalIgnoreCase);
            public static int Lookup(string k) => s_map.TryGetValue(k, out var v) ? v : -1;
            public static bool Contains(string k) => s_map.ContainsKey(k);
            public static int Index2(string k) => s_map[k];
            public static bool InSet(string k) => s_set.Contains(k);
            public static Color ParseColor(string s) => Enum.Parse<Color>(s);
            public static bool TryColor(string s) => Enum.TryParse<Color>(s, out _);
            public static object ParseColorByType(string s) => Enum.Parse(typeof(Color), s);
            public static int Number(string s) => int.Parse(s);
            public static bool TryNumber(string s) => long.TryParse(s, out _);
            public static string Generic(string k) => Find(new Dictionary<string, string> { ["key"] = "value" }, k);
            static T Find<T>(Dictionary<string, T> d, string k) => d.TryGetValue(k, out var v) ? v : default;
        }
        """;

    private readonly TempDirectory _dir = new();
    private readonly Type _original, _hooked, _unhooked;
    private readonly List<InstrumentedLoadContext> _contexts = [];

    public CallSiteHookTests()
    {
        string dll = Snippet.Compile(Source, _dir.Combine("in"), "HookSnippet");
        _original = Load(dll);
        var hooked = AssemblyInstrumenter.Instrument(dll, _dir.Combine("hooked"), new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });
        _hooked = Load(hooked.AssemblyPath);
        var unhooked = AssemblyInstrumenter.Instrument(dll, _dir.Combine("unhooked"),
            new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp, CallSiteHooks = false });
        _unhooked = Load(unhooked.AssemblyPath);
    }

    private Type Load(string path)
    {
        var context = new InstrumentedLoadContext([path]);
        _contexts.Add(context);
        return context.LoadFromAssemblyPath(path).GetType("Hooked")!;
    }

    public static TheoryData<string, string, string, string> Cases => new()
    {
        { "Eq", "KCOVNET/1.0", "KCOVNET/1.0", "KCOVNET/2.0" },
        { "Ne", "x", "x", "unequal" },
        { "EqInstance", "help", "help", "hello" },
        { "EqIgnoreCase", "word", "word", "World" },
        { "CompareOrdinal", "abc", "abc", "mmm" },
        { "Starts", "pXe", "pXe", "pre" },
        { "Ends", "a.doc", "a.doc", ".txt" },
        { "Has", "haystack", "haystack", "needle" },
        { "Index", "no", "no", "idx" },
        { "PdfHeader", "%PDF-2.0", "%PDF-2.0", "%PDF-1." },
        { "SpanEquals", "MAGIK", "MAGIK", "MAGIC" },
        { "CharSpan", "abd", "abd", "abc" },
        { "Lookup", "alphx", "alphx", "alpha" },
        { "Contains", "bet", "bet", "beta" },
        { "Index2", "gone", "gone", "beta" },
        { "InSet", "gamme", "gamme", "gamma" },
        { "ParseColor", "Gren", "Gren", "Green" },
        { "TryColor", "blue", "blue", "Blue" },
        { "ParseColorByType", "Redd", "Redd", "Red" },
        { "Number", "12x", "12x", "12" },
        { "TryNumber", "q", "q", "0" },
        { "Generic", "kez", "kez", "key" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachHookedFormRecordsBothOperandsAndBehavesAsTheOriginal(string method, string argument, string operand1, string operand2)
    {
        var expected = Outcome(_original, method, argument);
        var records = DataRecords(() => Assert.Equal(expected, Outcome(_hooked, method, argument)));
        Assert.Contains((operand1, operand2), records);
        // Without hooks the same build runs the same, and records no data.
        Assert.Empty(DataRecords(() => Assert.Equal(expected, Outcome(_unhooked, method, argument))));
        // Untraced and in trace-pc mode the hook only calls the original.
        Assert.Equal(expected, Outcome(_hooked, method, argument));
        Recorder.Pcs(() => Assert.Equal(expected, Outcome(_hooked, method, argument)));
    }

    [Fact]
    public void AMatchingOperandRecordsNoKeysAndTheHooksCanBeTurnedOff()
    {
        Assert.Empty(DataRecords(() => Outcome(_hooked, "Lookup", "alpha")));
        TraceCalls.Enabled = false;
        try
        {
            Assert.Empty(DataRecords(() => Outcome(_hooked, "Eq", "nope")));
        }
        finally
        {
            TraceCalls.Enabled = true;
        }
        Assert.NotEmpty(DataRecords(() => Outcome(_hooked, "Eq", "nope")));
    }

    [Fact]
    public void IntegerRecordsAroundDataRecordsKeepKcovsLayout()
    {
        // A tiny area: records that do not fit whole are dropped, and the count stays on a record boundary.
        var words = Recorder.CmpWords(() => Outcome(_hooked, "Eq", new string('z', 60)), words: 1 + 4 * 3);
        Assert.Equal(0UL, words[0]);
        var fits = Recorder.CmpWords(() => Outcome(_hooked, "Eq", "a"), words: 1 + 4 * 3);
        Assert.Equal(2UL, fits[0]); // one data record: 1 slot + 1 slot of payload (2 + 22 bytes)
        Assert.Equal(KcovAbi.CmpData | KcovAbi.CmpDataUtf16 | KcovAbi.CmpKindEquals << 8 | 1UL << 32, fits[1]);
    }

    /// <summary>The call's result, or the type of exception it threw (unwrapped from reflection's).</summary>
    private static string Outcome(Type type, string method, string argument)
    {
        try
        {
            return type.GetMethod(method, BindingFlags.Public | BindingFlags.Static)!.Invoke(null, [argument])?.ToString() ?? "null";
        }
        catch (TargetInvocationException e)
        {
            return e.InnerException!.GetType().FullName!;
        }
    }

    /// <summary>The (operand 1, operand 2) pairs of the data records written while <paramref name="action"/> ran.</summary>
    private static List<(string, string)> DataRecords(Action action)
    {
        var words = Recorder.CmpWords(action);
        var result = new List<(string, string)>();
        ulong slots = words[0];
        for (ulong slot = 0; slot < slots;)
        {
            int at = 1 + (int)slot * KcovAbi.WordsPerCmp;
            ulong type = words[at];
            if ((type & KcovAbi.CmpData) == 0)
            {
                slot++;
                continue;
            }
            int extra = KcovAbi.CmpDataExtraSlots(type);
            var payload = System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan(at + KcovAbi.WordsPerCmp, extra * KcovAbi.WordsPerCmp));
            int la = (int)words[at + 1], lb = (int)words[at + 2];
            var encoding = (type & KcovAbi.CmpDataUtf16) != 0 ? Encoding.Unicode : Encoding.Latin1;
            result.Add((encoding.GetString(payload[..la]), encoding.GetString(payload[la..(la + lb)])));
            slot += 1 + (ulong)extra;
        }
        return result;
    }

    public void Dispose()
    {
        foreach (var c in _contexts)
            c.Unload();
        _dir.Dispose();
    }
}
