namespace Kcov.Instrumentation;

/// <summary>The evaluation stack types of ECMA-335 III.1.1, plus Unknown for what the simulator cannot tell.</summary>
internal enum StackKind : byte
{
    Unknown,
    Int32,
    Int64,
    NativeInt,
    Float,
    ObjectRef,
    ManagedPtr,
    ValueType,
}
