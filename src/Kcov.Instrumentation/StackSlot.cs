namespace Kcov.Instrumentation;

/// <summary>
/// One evaluation stack entry: its type, its value when it came straight from an <c>ldc.*</c>
/// (through conversions), and for an int32 the narrower type it was loaded as, if any.
/// </summary>
internal readonly record struct StackSlot(StackKind Kind, long? Constant = null, NarrowInteger Narrow = NarrowInteger.None)
{
    public static readonly StackSlot Unknown = new(StackKind.Unknown);

    /// <summary>The slot two paths agree on where they join: the same kind, constant only if the same constant, narrow only if equally narrow.</summary>
    public StackSlot Merge(StackSlot other) => new(
        Kind == other.Kind ? Kind : StackKind.Unknown,
        Kind == other.Kind && Constant == other.Constant ? Constant : null,
        Kind == other.Kind && Narrow == other.Narrow ? Narrow : NarrowInteger.None);

    /// <summary>Integer types trace-cmp traces (floats, references and pointers are not traced).</summary>
    public bool IsInteger => Kind is StackKind.Int32 or StackKind.Int64 or StackKind.NativeInt;

    /// <summary>
    /// The size of an int32 comparison of <paramref name="a"/> and <paramref name="b"/> (or of
    /// <paramref name="a"/> with 0 when <paramref name="b"/> is null): the narrow size when one
    /// operand's type holds every value the other can have (a byte compared with a short is a 2-byte
    /// comparison, a char with a literal that fits in a char a 2-byte one), else 4. Both narrow
    /// values compared in that type compare as they do in int32, so kcov's truncated args stay faithful.
    /// </summary>
    public static int ComparisonSize(StackSlot a, StackSlot? b)
    {
        if (a.Kind != StackKind.Int32 || b is { Kind: not StackKind.Int32 })
            return 0;
        var other = b ?? new StackSlot(StackKind.Int32, 0);
        if (a.Narrow != NarrowInteger.None && Holds(a.Narrow, other))
            return SizeOf(a.Narrow);
        if (other.Narrow != NarrowInteger.None && Holds(other.Narrow, a))
            return SizeOf(other.Narrow);
        return 4;
    }

    /// <summary>Whether every value <paramref name="value"/> can have is a value of <paramref name="type"/>.</summary>
    private static bool Holds(NarrowInteger type, StackSlot value)
    {
        var (min, max) = Range(type);
        if (value.Narrow != NarrowInteger.None)
        {
            var (vmin, vmax) = Range(value.Narrow);
            return min <= vmin && vmax <= max;
        }
        return value.Constant is { } c && min <= c && c <= max;
    }

    private static (long Min, long Max) Range(NarrowInteger type) => type switch
    {
        NarrowInteger.UInt8 => (byte.MinValue, byte.MaxValue),
        NarrowInteger.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        NarrowInteger.UInt16 => (ushort.MinValue, ushort.MaxValue),
        NarrowInteger.Int16 => (short.MinValue, short.MaxValue),
        _ => (int.MinValue, int.MaxValue),
    };

    private static int SizeOf(NarrowInteger type) => type switch
    {
        NarrowInteger.UInt8 or NarrowInteger.Int8 => 1,
        NarrowInteger.UInt16 or NarrowInteger.Int16 => 2,
        _ => 4,
    };
}
