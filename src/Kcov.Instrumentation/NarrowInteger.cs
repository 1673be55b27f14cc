namespace Kcov.Instrumentation;

/// <summary>
/// The declared type behind an int32 evaluation stack entry when it is narrower than int32
/// (ECMA-335 III.1.1 widens them all to int32), so trace-cmp can record kcov's 1- and 2-byte sizes.
/// bool is left out: a CLI bool is a truth value, not a 1-byte integer (its brtrue stays ConstCmp4, as before).
/// </summary>
internal enum NarrowInteger : byte
{
    /// <summary>A full int32, or nothing known.</summary>
    None,
    UInt8,
    Int8,
    UInt16,
    Int16,
}
