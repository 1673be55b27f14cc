using Mono.Cecil;

namespace Kcov.Instrumentation;

/// <summary>
/// Which evaluation stack type a value of a metadata type has (ECMA-335 III.1.1: everything narrower
/// than int32 is widened to int32, enums to their underlying type), and for those widened from a
/// byte, sbyte, char, short or ushort, which one (<see cref="NarrowInteger"/>). Generic parameters are replaced
/// by the arguments of the member reference they came through; a parameter of the method being
/// simulated itself stays Unknown, and Unknown is never traced, so a wrong guess cannot break code.
/// </summary>
internal static class TypeKinds
{
    /// <param name="type">The declared type (of a local, argument, field, return value...).</param>
    /// <param name="declaringType">The type of the member the value came through, for !0-style parameters.</param>
    /// <param name="method">The generic method instance the value came through, for !!0-style parameters.</param>
    public static StackKind Of(TypeReference type, TypeReference? declaringType = null, IGenericInstance? method = null) =>
        SlotOf(type, declaringType, method).Kind;

    /// <summary>The stack entry a value of <paramref name="type"/> becomes: its kind, and the narrow type of a byte, sbyte, char, short or ushort (or an enum of one).</summary>
    public static StackSlot SlotOf(TypeReference type, TypeReference? declaringType = null, IGenericInstance? method = null)
    {
        while (true)
        {
            switch (type)
            {
                case RequiredModifierType r: type = r.ElementType; continue;
                case OptionalModifierType o: type = o.ElementType; continue;
                case PinnedType p: type = p.ElementType; continue;
                case ByReferenceType: return new(StackKind.ManagedPtr);
                case PointerType or FunctionPointerType: return new(StackKind.NativeInt);
                case ArrayType: return new(StackKind.ObjectRef);
                case GenericParameter g:
                    var argument = Substitute(g, declaringType, method);
                    if (argument is null || argument is GenericParameter)
                        return new(StackKind.Unknown);
                    type = argument;
                    declaringType = null;
                    method = null;
                    continue;
            }
            break;
        }

        switch (type.MetadataType)
        {
            case MetadataType.Byte:
                return new(StackKind.Int32, Narrow: NarrowInteger.UInt8);
            case MetadataType.SByte:
                return new(StackKind.Int32, Narrow: NarrowInteger.Int8);
            case MetadataType.Char or MetadataType.UInt16:
                return new(StackKind.Int32, Narrow: NarrowInteger.UInt16);
            case MetadataType.Int16:
                return new(StackKind.Int32, Narrow: NarrowInteger.Int16);
            case MetadataType.Boolean or MetadataType.Int32 or MetadataType.UInt32:
                return new(StackKind.Int32);
            case MetadataType.Int64 or MetadataType.UInt64:
                return new(StackKind.Int64);
            case MetadataType.IntPtr or MetadataType.UIntPtr:
                return new(StackKind.NativeInt);
            case MetadataType.Single or MetadataType.Double:
                return new(StackKind.Float);
            case MetadataType.String or MetadataType.Object or MetadataType.Array:
                return new(StackKind.ObjectRef);
            case MetadataType.Void:
                return new(StackKind.Unknown);
            case MetadataType.TypedByReference:
                return new(StackKind.ValueType);
        }

        var element = type is GenericInstanceType gi ? gi.ElementType : type;
        if (!type.IsValueType && !element.IsValueType)
            return new(StackKind.ObjectRef);
        if (type is GenericInstanceType)
            return new(StackKind.ValueType);
        TypeDefinition? definition;
        try
        {
            definition = type.Resolve();
        }
        catch (AssemblyResolutionException)
        {
            definition = null;
        }
        if (definition is null)
            return new(StackKind.Unknown);
        if (!definition.IsEnum)
            return new(StackKind.ValueType);
        var underlying = definition.Fields.FirstOrDefault(f => !f.IsStatic);
        return underlying is null ? new(StackKind.Unknown) : SlotOf(underlying.FieldType);
    }

    private static TypeReference? Substitute(GenericParameter parameter, TypeReference? declaringType, IGenericInstance? method)
    {
        if (parameter.Type == GenericParameterType.Method)
            return method is not null && parameter.Position < method.GenericArguments.Count ? method.GenericArguments[parameter.Position] : null;
        return declaringType is GenericInstanceType instance && parameter.Position < instance.GenericArguments.Count
            ? instance.GenericArguments[parameter.Position]
            : null;
    }
}
