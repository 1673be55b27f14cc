namespace Kcov.Instrumentation;

/// <summary>One evaluation stack entry: its type, and its value when it came straight from an <c>ldc.*</c> (through conversions).</summary>
internal readonly record struct StackSlot(StackKind Kind, long? Constant = null)
{
    public static readonly StackSlot Unknown = new(StackKind.Unknown);

    /// <summary>The slot two paths agree on where they join: the same kind, constant only if the same constant.</summary>
    public StackSlot Merge(StackSlot other) => new(
        Kind == other.Kind ? Kind : StackKind.Unknown,
        Kind == other.Kind && Constant == other.Constant ? Constant : null);

    /// <summary>Integer types trace-cmp traces (floats, references and pointers are not traced).</summary>
    public bool IsInteger => Kind is StackKind.Int32 or StackKind.Int64 or StackKind.NativeInt;
}
