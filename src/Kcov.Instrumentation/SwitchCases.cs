using Mono.Cecil;
using Mono.Cecil.Cil;
using Mono.Cecil.Rocks;

namespace Kcov.Instrumentation;

/// <summary>
/// The <c>cases</c> arrays <c>Trace.Switch</c> takes, in kcov's layout <c>[count, bits, 0, 1, ..., count-1]</c>
/// (an IL switch compares its unsigned int32 operand with 0..n-1). bits is 32, or 8 or 16 when the
/// operand is known to be a byte or a char/short (<c>switch (b)</c> on a byte with cases from 0), as
/// kcov's case size is the switched value's width. Switches with the same number of targets and
/// width share one array. They live in one generated class per module, built once by its static
/// constructor, so a traced switch costs a static field load and never allocates:
/// <code>
/// internal static class &lt;KcovSwitchCases&gt;
/// {
///     internal static readonly ulong[] Cases3 = Make(3, 32);   // one field per distinct count and width
///     internal static readonly ulong[] Cases3x8 = Make(3, 8);
///     private static ulong[] Make(int n, int bits)
///     {
///         var a = new ulong[n + 2]; a[0] = (ulong)n; a[1] = (ulong)bits;
///         for (int i = 0; i &lt; n; i++) a[i + 2] = (ulong)i;
///         return a;
///     }
/// }
/// </code>
/// </summary>
internal sealed class SwitchCases
{
    public const string TypeName = "<KcovSwitchCases>";

    private readonly ModuleDefinition _module;
    private readonly SortedDictionary<(int Count, int Bits), FieldDefinition> _fields = [];
    private TypeDefinition? _type;

    public SwitchCases(ModuleDefinition module) => _module = module;

    /// <summary>The static field holding the cases array for a switch with <paramref name="count"/> targets on a <paramref name="bits"/>-bit value.</summary>
    public FieldReference For(int count, int bits = 32)
    {
        if (!_fields.TryGetValue((count, bits), out var field))
        {
            _type ??= CreateType();
            field = new FieldDefinition(bits == 32 ? $"Cases{count}" : $"Cases{count}x{bits}",
                FieldAttributes.Assembly | FieldAttributes.Static | FieldAttributes.InitOnly, new ArrayType(_module.TypeSystem.UInt64));
            _type.Fields.Add(field);
            _fields.Add((count, bits), field);
        }
        return field;
    }

    /// <summary>Emits the static constructor; call once, after the last <see cref="For"/>.</summary>
    public void Complete()
    {
        if (_type is null)
            return;
        var types = _module.TypeSystem;
        var make = new MethodDefinition("Make", MethodAttributes.Private | MethodAttributes.Static | MethodAttributes.HideBySig,
            new ArrayType(types.UInt64));
        make.Parameters.Add(new ParameterDefinition("n", ParameterAttributes.None, types.Int32));
        make.Parameters.Add(new ParameterDefinition("bits", ParameterAttributes.None, types.Int32));
        var array = new VariableDefinition(new ArrayType(types.UInt64));
        var i = new VariableDefinition(types.Int32);
        make.Body.Variables.Add(array);
        make.Body.Variables.Add(i);
        make.Body.InitLocals = true;
        var il = make.Body.GetILProcessor();
        var loop = il.Create(OpCodes.Ldloc, array);
        var test = il.Create(OpCodes.Ldloc, i);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Ldc_I4_2);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Newarr, types.UInt64);
        il.Emit(OpCodes.Stloc, array);
        il.Emit(OpCodes.Ldloc, array);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Conv_I8);
        il.Emit(OpCodes.Stelem_I8);
        il.Emit(OpCodes.Ldloc, array);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Conv_I8);
        il.Emit(OpCodes.Stelem_I8);
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Stloc, i);
        il.Emit(OpCodes.Br, test);
        il.Append(loop);
        il.Emit(OpCodes.Ldloc, i);
        il.Emit(OpCodes.Ldc_I4_2);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Ldloc, i);
        il.Emit(OpCodes.Conv_I8);
        il.Emit(OpCodes.Stelem_I8);
        il.Emit(OpCodes.Ldloc, i);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, i);
        il.Append(test);
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Blt, loop);
        il.Emit(OpCodes.Ldloc, array);
        il.Emit(OpCodes.Ret);
        make.Body.OptimizeMacros();
        _type!.Methods.Add(make);

        var cctor = new MethodDefinition(".cctor", MethodAttributes.Private | MethodAttributes.Static | MethodAttributes.HideBySig
            | MethodAttributes.SpecialName | MethodAttributes.RTSpecialName, types.Void);
        il = cctor.Body.GetILProcessor();
        foreach (var ((count, bits), field) in _fields)
        {
            il.Emit(OpCodes.Ldc_I4, count);
            il.Emit(OpCodes.Ldc_I4, bits);
            il.Emit(OpCodes.Call, make);
            il.Emit(OpCodes.Stsfld, field);
        }
        il.Emit(OpCodes.Ret);
        _type.Methods.Add(cctor);
    }

    private TypeDefinition CreateType()
    {
        var type = new TypeDefinition("", TypeName,
            TypeAttributes.NotPublic | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.BeforeFieldInit | TypeAttributes.Class,
            _module.TypeSystem.Object);
        _module.Types.Add(type);
        return type;
    }
}
