using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kcov;

/// <summary>
/// trace-cmp for comparisons that run in CoreLib, which is never instrumented: string equality and
/// ordering, prefix/suffix/substring searches, span comparisons of bytes and chars, string-keyed
/// <see cref="Dictionary{TKey, TValue}"/> and <see cref="HashSet{T}"/> lookups, <see cref="Enum"/>
/// parsing and the <see cref="int"/>/<see cref="long"/> parsers. The instrumenter replaces such a call in
/// instrumented code by a call of the hook of the same name here, with the site's PC as one more
/// argument; the hook records both operands and then makes the original call, so the code behaves
/// exactly as before (same result, same exceptions). What libFuzzer's strcmp/memcmp hooks and
/// Jazzer's method hooks do for C and the JVM.
/// <para>
/// Records go to the calling thread's area in KCOV_TRACE_CMP mode only, as data records: kcov's
/// 4-word record with the <see cref="KcovAbi.CmpData"/> type bit, followed by the operands' bytes
/// (docs/trace-cmp-data.md). Integer records are unchanged. Outside trace-cmp mode a hook costs the
/// process-wide "does anything trace?" check of <see cref="Trace"/>. The hooks never throw on their
/// own; they allocate nothing, except an enum type's names, read once per type by the generic enum
/// hooks (in a process where some thread traces) and on every trace-cmp call of the non-generic
/// <c>Enum.Parse(Type, ...)</c> hook (an enum type known only at run time).
/// </para>
/// </summary>
public static unsafe class TraceCalls
{
    /// <summary>Operands are cut to this many bytes (64 UTF-16 chars): enough for keywords and magic strings.</summary>
    public const int MaxOperandBytes = 128;

    /// <summary>A failed lookup records the key against at most this many of the keys the collection holds.</summary>
    public const int MaxKeysPerLookup = 32;

    private static bool s_enabled = true;
    private static uint s_rotation;

    /// <summary>
    /// Whether the hooks record (default true). The fuzzer's <c>-use_call_hooks=0</c> turns them off;
    /// the original calls are made either way.
    /// </summary>
    public static bool Enabled
    {
        get => Volatile.Read(ref s_enabled);
        set => Volatile.Write(ref s_enabled, value);
    }

    // ---- string ----

    /// <summary>Hook of <c>string.Equals(string, string)</c> and <c>string ==</c>.</summary>
    public static bool StringEquals(string? a, string? b, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindEquals, a, b, pc);
        return string.Equals(a, b);
    }

    /// <summary>Hook of <c>string !=</c>.</summary>
    public static bool StringNotEquals(string? a, string? b, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindEquals, a, b, pc);
        return !string.Equals(a, b);
    }

    /// <summary>Hook of the instance <c>a.Equals(string)</c>.</summary>
    public static bool StringEqualsInstance(string a, string? b, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindEquals, a, b, pc);
        return a.Equals(b);
    }

    /// <summary>Hook of the instance <c>a.Equals(string, StringComparison)</c>.</summary>
    public static bool StringEqualsInstance(string a, string? b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindEquals, a, b, pc);
        return a.Equals(b, comparison);
    }

    /// <summary>Hook of <c>string.Equals(string, string, StringComparison)</c>.</summary>
    public static bool StringEquals(string? a, string? b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindEquals, a, b, pc);
        return string.Equals(a, b, comparison);
    }

    /// <summary>Hook of <c>string.Compare(string, string)</c>.</summary>
    public static int StringCompare(string? a, string? b, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindCompare, a, b, pc);
        return string.Compare(a, b);
    }

    /// <summary>Hook of <c>string.Compare(string, string, StringComparison)</c>.</summary>
    public static int StringCompare(string? a, string? b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindCompare, a, b, pc);
        return string.Compare(a, b, comparison);
    }

    /// <summary>Hook of <c>string.CompareOrdinal(string, string)</c>.</summary>
    public static int StringCompareOrdinal(string? a, string? b, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindCompare, a, b, pc);
        return string.CompareOrdinal(a, b);
    }

    /// <summary>Hook of <c>a.StartsWith(string)</c>.</summary>
    public static bool StringStartsWith(string a, string b, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindPrefix, a, b, pc);
        return a.StartsWith(b);
    }

    /// <summary>Hook of <c>a.StartsWith(string, StringComparison)</c>.</summary>
    public static bool StringStartsWith(string a, string b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindPrefix, a, b, pc);
        return a.StartsWith(b, comparison);
    }

    /// <summary>Hook of <c>a.EndsWith(string)</c>.</summary>
    public static bool StringEndsWith(string a, string b, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindSuffix, a, b, pc);
        return a.EndsWith(b);
    }

    /// <summary>Hook of <c>a.EndsWith(string, StringComparison)</c>.</summary>
    public static bool StringEndsWith(string a, string b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindSuffix, a, b, pc);
        return a.EndsWith(b, comparison);
    }

    /// <summary>Hook of <c>a.Contains(string)</c>.</summary>
    public static bool StringContains(string a, string b, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindContains, a, b, pc);
        return a.Contains(b);
    }

    /// <summary>Hook of <c>a.Contains(string, StringComparison)</c>.</summary>
    public static bool StringContains(string a, string b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindContains, a, b, pc);
        return a.Contains(b, comparison);
    }

    /// <summary>Hook of <c>a.IndexOf(string)</c>.</summary>
    public static int StringIndexOf(string a, string b, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindContains, a, b, pc);
        return a.IndexOf(b);
    }

    /// <summary>Hook of <c>a.IndexOf(string, StringComparison)</c>.</summary>
    public static int StringIndexOf(string a, string b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Strings(KcovAbi.CmpKindContains, a, b, pc);
        return a.IndexOf(b, comparison);
    }

    // ---- spans (MemoryExtensions), T is byte or char ----

    /// <summary>Hook of <c>MemoryExtensions.SequenceEqual(ReadOnlySpan, ReadOnlySpan)</c>.</summary>
    public static bool SpanSequenceEqual<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ulong pc) where T : IEquatable<T>?
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindEquals, a, b, pc);
        return a.SequenceEqual(b);
    }

    /// <summary>Hook of <c>MemoryExtensions.SequenceEqual(Span, ReadOnlySpan)</c>.</summary>
    public static bool SpanSequenceEqual<T>(Span<T> a, ReadOnlySpan<T> b, ulong pc) where T : IEquatable<T>?
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindEquals, (ReadOnlySpan<T>)a, b, pc);
        return a.SequenceEqual(b);
    }

    /// <summary>Hook of <c>MemoryExtensions.StartsWith(ReadOnlySpan, ReadOnlySpan)</c>.</summary>
    public static bool SpanStartsWith<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ulong pc) where T : IEquatable<T>?
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindPrefix, a, b, pc);
        return a.StartsWith(b);
    }

    /// <summary>Hook of <c>MemoryExtensions.StartsWith(Span, ReadOnlySpan)</c>.</summary>
    public static bool SpanStartsWith<T>(Span<T> a, ReadOnlySpan<T> b, ulong pc) where T : IEquatable<T>?
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindPrefix, (ReadOnlySpan<T>)a, b, pc);
        return a.StartsWith(b);
    }

    /// <summary>Hook of <c>MemoryExtensions.EndsWith(ReadOnlySpan, ReadOnlySpan)</c>.</summary>
    public static bool SpanEndsWith<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ulong pc) where T : IEquatable<T>?
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindSuffix, a, b, pc);
        return a.EndsWith(b);
    }

    /// <summary>Hook of <c>MemoryExtensions.EndsWith(Span, ReadOnlySpan)</c>.</summary>
    public static bool SpanEndsWith<T>(Span<T> a, ReadOnlySpan<T> b, ulong pc) where T : IEquatable<T>?
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindSuffix, (ReadOnlySpan<T>)a, b, pc);
        return a.EndsWith(b);
    }

    /// <summary>Hook of <c>MemoryExtensions.IndexOf(ReadOnlySpan, ReadOnlySpan)</c>.</summary>
    public static int SpanIndexOf<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, ulong pc) where T : IEquatable<T>?
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindContains, a, b, pc);
        return a.IndexOf(b);
    }

    /// <summary>Hook of <c>MemoryExtensions.IndexOf(Span, ReadOnlySpan)</c>.</summary>
    public static int SpanIndexOf<T>(Span<T> a, ReadOnlySpan<T> b, ulong pc) where T : IEquatable<T>?
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindContains, (ReadOnlySpan<T>)a, b, pc);
        return a.IndexOf(b);
    }

    /// <summary>Hook of <c>MemoryExtensions.Equals(ReadOnlySpan&lt;char&gt;, ReadOnlySpan&lt;char&gt;, StringComparison)</c>.</summary>
    public static bool CharSpanEquals(ReadOnlySpan<char> a, ReadOnlySpan<char> b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindEquals, a, b, pc);
        return a.Equals(b, comparison);
    }

    /// <summary>Hook of <c>MemoryExtensions.StartsWith(ReadOnlySpan&lt;char&gt;, ReadOnlySpan&lt;char&gt;, StringComparison)</c>.</summary>
    public static bool CharSpanStartsWith(ReadOnlySpan<char> a, ReadOnlySpan<char> b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindPrefix, a, b, pc);
        return a.StartsWith(b, comparison);
    }

    /// <summary>Hook of <c>MemoryExtensions.EndsWith(ReadOnlySpan&lt;char&gt;, ReadOnlySpan&lt;char&gt;, StringComparison)</c>.</summary>
    public static bool CharSpanEndsWith(ReadOnlySpan<char> a, ReadOnlySpan<char> b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindSuffix, a, b, pc);
        return a.EndsWith(b, comparison);
    }

    /// <summary>Hook of <c>MemoryExtensions.CompareTo(ReadOnlySpan&lt;char&gt;, ReadOnlySpan&lt;char&gt;, StringComparison)</c>.</summary>
    public static int CharSpanCompareTo(ReadOnlySpan<char> a, ReadOnlySpan<char> b, StringComparison comparison, ulong pc)
    {
        if (KcovTask.Tracing != 0) Spans(KcovAbi.CmpKindCompare, a, b, pc);
        return a.CompareTo(b, comparison);
    }

    // ---- string-keyed collections: a failed lookup records the key against keys the collection holds ----

    /// <summary>Hook of <c>Dictionary&lt;string, TValue&gt;.TryGetValue</c>.</summary>
    public static bool DictionaryTryGetValue<TValue>(Dictionary<string, TValue> d, string key, out TValue value, ulong pc)
    {
        if (KcovTask.Tracing != 0) Keys(d, key, pc);
        return d.TryGetValue(key, out value!);
    }

    /// <summary>Hook of <c>Dictionary&lt;string, TValue&gt;.ContainsKey</c>.</summary>
    public static bool DictionaryContainsKey<TValue>(Dictionary<string, TValue> d, string key, ulong pc)
    {
        if (KcovTask.Tracing != 0) Keys(d, key, pc);
        return d.ContainsKey(key);
    }

    /// <summary>Hook of the indexer getter of <c>Dictionary&lt;string, TValue&gt;</c>.</summary>
    public static TValue DictionaryGetItem<TValue>(Dictionary<string, TValue> d, string key, ulong pc)
    {
        if (KcovTask.Tracing != 0) Keys(d, key, pc);
        return d[key];
    }

    /// <summary>Hook of <c>HashSet&lt;string&gt;.Contains</c>.</summary>
    public static bool HashSetContains(HashSet<string> set, string item, ulong pc)
    {
        if (KcovTask.Tracing != 0) Keys(set, item, pc);
        return set.Contains(item);
    }

    // ---- enums and numbers ----

    /// <summary>Hook of <c>Enum.Parse&lt;TEnum&gt;(string)</c>.</summary>
    public static TEnum EnumParse<TEnum>(string value, ulong pc) where TEnum : struct, Enum
    {
        if (KcovTask.Tracing != 0) EnumNames(EnumNameCache<TEnum>.Names, value, pc);
        return Enum.Parse<TEnum>(value);
    }

    /// <summary>Hook of <c>Enum.Parse&lt;TEnum&gt;(string, bool)</c>.</summary>
    public static TEnum EnumParse<TEnum>(string value, bool ignoreCase, ulong pc) where TEnum : struct, Enum
    {
        if (KcovTask.Tracing != 0) EnumNames(EnumNameCache<TEnum>.Names, value, pc);
        return Enum.Parse<TEnum>(value, ignoreCase);
    }

    /// <summary>Hook of <c>Enum.TryParse&lt;TEnum&gt;(string, out TEnum)</c>.</summary>
    public static bool EnumTryParse<TEnum>(string? value, out TEnum result, ulong pc) where TEnum : struct, Enum
    {
        if (KcovTask.Tracing != 0) EnumNames(EnumNameCache<TEnum>.Names, value, pc);
        return Enum.TryParse(value, out result);
    }

    /// <summary>Hook of <c>Enum.TryParse&lt;TEnum&gt;(string, bool, out TEnum)</c>.</summary>
    public static bool EnumTryParse<TEnum>(string? value, bool ignoreCase, out TEnum result, ulong pc) where TEnum : struct, Enum
    {
        if (KcovTask.Tracing != 0) EnumNames(EnumNameCache<TEnum>.Names, value, pc);
        return Enum.TryParse(value, ignoreCase, out result);
    }

    /// <summary>Hook of <c>Enum.Parse(Type, string)</c>.</summary>
    public static object EnumParse(Type enumType, string value, ulong pc)
    {
        if (KcovTask.Tracing != 0) EnumNames(enumType, value, pc);
        return Enum.Parse(enumType, value);
    }

    /// <summary>Hook of <c>Enum.Parse(Type, string, bool)</c>.</summary>
    public static object EnumParse(Type enumType, string value, bool ignoreCase, ulong pc)
    {
        if (KcovTask.Tracing != 0) EnumNames(enumType, value, pc);
        return Enum.Parse(enumType, value, ignoreCase);
    }

    /// <summary>Hook of <c>int.Parse(string)</c>.</summary>
    public static int Int32Parse(string s, ulong pc)
    {
        if (KcovTask.Tracing != 0) Number(s, 10, pc);
        return int.Parse(s);
    }

    /// <summary>Hook of <c>int.Parse(string, IFormatProvider)</c>.</summary>
    public static int Int32Parse(string s, IFormatProvider? provider, ulong pc)
    {
        if (KcovTask.Tracing != 0) Number(s, 10, pc);
        return int.Parse(s, provider);
    }

    /// <summary>Hook of <c>int.TryParse(string, out int)</c>.</summary>
    public static bool Int32TryParse(string? s, out int result, ulong pc)
    {
        if (KcovTask.Tracing != 0) Number(s, 10, pc);
        return int.TryParse(s, out result);
    }

    /// <summary>Hook of <c>long.Parse(string)</c>.</summary>
    public static long Int64Parse(string s, ulong pc)
    {
        if (KcovTask.Tracing != 0) Number(s, 19, pc);
        return long.Parse(s);
    }

    /// <summary>Hook of <c>long.Parse(string, IFormatProvider)</c>.</summary>
    public static long Int64Parse(string s, IFormatProvider? provider, ulong pc)
    {
        if (KcovTask.Tracing != 0) Number(s, 19, pc);
        return long.Parse(s, provider);
    }

    /// <summary>Hook of <c>long.TryParse(string, out long)</c>.</summary>
    public static bool Int64TryParse(string? s, out long result, ulong pc)
    {
        if (KcovTask.Tracing != 0) Number(s, 19, pc);
        return long.TryParse(s, out result);
    }

    // ---- recording (out of line: only a process where some thread traces gets here) ----

    /// <summary>The calling thread's task if it traces comparisons and the hooks are on.</summary>
    private static KcovTask? CmpTask()
    {
        var t = KcovTask.Current;
        return t is not null && t.Mode == KcovTask.ModeTraceCmp && Volatile.Read(ref s_enabled) ? t : null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Strings(ulong kind, string? a, string? b, ulong pc)
    {
        if (a is null || b is null || CmpTask() is not { } t)
            return;
        Write(t, kind, KcovAbi.CmpDataUtf16, MemoryMarshal.AsBytes(a.AsSpan()), MemoryMarshal.AsBytes(b.AsSpan()), pc);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Spans<T>(ulong kind, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ulong pc)
    {
        // The instrumenter hooks byte and char spans only; anything else is left alone here too.
        if ((typeof(T) != typeof(byte) && typeof(T) != typeof(char)) || CmpTask() is not { } t)
            return;
        ulong flags = typeof(T) == typeof(char) ? KcovAbi.CmpDataUtf16 : 0;
        Write(t, kind, flags, Bytes(a), Bytes(b), pc);
    }

    /// <summary>A span of byte or char as its bytes (MemoryMarshal.AsBytes wants an unmanaged T, which the hooks' T is not declared as).</summary>
    private static ReadOnlySpan<byte> Bytes<T>(ReadOnlySpan<T> span) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(span)), span.Length * Unsafe.SizeOf<T>());

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Keys<TValue>(Dictionary<string, TValue>? d, string? key, ulong pc)
    {
        if (d is null || key is null || d.Count == 0 || CmpTask() is not { } t)
            return;
        try
        {
            if (d.ContainsKey(key))
                return;
            // A rotating start, so that successive lookups in a large table offer all its keys.
            int start = (int)(s_rotation++ % (uint)d.Count), i = 0, written = 0;
            for (int pass = 0; pass < 2 && written < MaxKeysPerLookup; pass++, i = 0)
                foreach (var entry in d)
                {
                    if ((pass == 0) == (i++ >= start) && written++ < MaxKeysPerLookup)
                        Write(t, KcovAbi.CmpKindKey, KcovAbi.CmpDataUtf16, MemoryMarshal.AsBytes(key.AsSpan()), MemoryMarshal.AsBytes(entry.Key.AsSpan()), pc);
                }
        }
        catch (InvalidOperationException)
        {
            // Another thread changed the table while we read it: the hint is lost, the lookup is not.
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Keys(HashSet<string>? set, string? item, ulong pc)
    {
        if (set is null || item is null || set.Count == 0 || CmpTask() is not { } t)
            return;
        try
        {
            if (set.Contains(item))
                return;
            int start = (int)(s_rotation++ % (uint)set.Count), i = 0, written = 0;
            for (int pass = 0; pass < 2 && written < MaxKeysPerLookup; pass++, i = 0)
                foreach (var entry in set)
                {
                    if ((pass == 0) == (i++ >= start) && entry is not null && written++ < MaxKeysPerLookup)
                        Write(t, KcovAbi.CmpKindKey, KcovAbi.CmpDataUtf16, MemoryMarshal.AsBytes(item.AsSpan()), MemoryMarshal.AsBytes(entry.AsSpan()), pc);
                }
        }
        catch (InvalidOperationException)
        {
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EnumNames(string[] names, string? value, ulong pc)
    {
        if (value is null || CmpTask() is not { } t)
            return;
        int written = 0;
        foreach (var name in names)
        {
            if (name == value)
                return;
        }
        foreach (var name in names)
            if (written++ < MaxKeysPerLookup)
                Write(t, KcovAbi.CmpKindKey, KcovAbi.CmpDataUtf16, MemoryMarshal.AsBytes(value.AsSpan()), MemoryMarshal.AsBytes(name.AsSpan()), pc);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EnumNames(Type? enumType, string? value, ulong pc)
    {
        if (enumType is null || !enumType.IsEnum || value is null || CmpTask() is null)
            return;
        EnumNames(Enum.GetNames(enumType), value, pc);
    }

    /// <summary>
    /// Text that does not parse as an integer: recorded against its longest prefix that does
    /// (optional sign, at most <paramref name="maxDigits"/> digits; "0" if none), so the hint is a number.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Number(string? s, int maxDigits, ulong pc)
    {
        if (s is null || CmpTask() is not { } t)
            return;
        int i = 0;
        while (i < s.Length && char.IsWhiteSpace(s[i]))
            i++;
        int start = i;
        if (i < s.Length && (s[i] == '-' || s[i] == '+'))
            i++;
        int digits = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]) && digits < maxDigits)
        {
            i++;
            digits++;
        }
        bool trailingSpace = true;
        for (int k = i; k < s.Length; k++)
            trailingSpace &= char.IsWhiteSpace(s[k]);
        if (digits > 0 && trailingSpace)
            return; // it parses (or only overflows): nothing to suggest
        var valid = digits > 0 ? s.AsSpan(start, i - start) : "0".AsSpan();
        Write(t, KcovAbi.CmpKindNumber, KcovAbi.CmpDataUtf16, MemoryMarshal.AsBytes(s.AsSpan()), MemoryMarshal.AsBytes(valid), pc);
    }

    /// <summary>
    /// One data record: the first slot is (type, length 1, length 2, pc), the operands' bytes follow in
    /// whole 4-word slots (zero-padded). Written only if every slot fits; the count is published last.
    /// </summary>
    private static void Write(KcovTask t, ulong kind, ulong flags, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ulong pc)
    {
        int la = Math.Min(a.Length, MaxOperandBytes), lb = Math.Min(b.Length, MaxOperandBytes);
        ulong extra = (ulong)(la + lb + 8 * KcovAbi.WordsPerCmp - 1) / (8 * KcovAbi.WordsPerCmp);
        ulong* area = t.Area;
        ulong count = Volatile.Read(ref area[0]);
        // count + 1 + extra slots must fit in CmpCapacity; written so that a scribbled count cannot overflow.
        if (count >= t.CmpCapacity || extra >= t.CmpCapacity - count)
            return;
        ulong* record = area + 1 + count * KcovAbi.WordsPerCmp;
        record[0] = KcovAbi.CmpData | flags | (kind << 8) | (extra << 32);
        record[1] = (ulong)la;
        record[2] = (ulong)lb;
        record[3] = pc;
        var payload = new Span<byte>(record + KcovAbi.WordsPerCmp, (int)extra * 8 * KcovAbi.WordsPerCmp);
        a[..la].CopyTo(payload);
        b[..lb].CopyTo(payload[la..]);
        payload[(la + lb)..].Clear();
        Volatile.Write(ref area[0], count + 1 + extra);
    }

    /// <summary>An enum's names, read once per type (the first time a trace-cmp run parses it).</summary>
    private static class EnumNameCache<TEnum> where TEnum : struct, Enum
    {
        public static readonly string[] Names = Enum.GetNames<TEnum>();
    }
}
