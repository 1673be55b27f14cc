using System.Globalization;
using System.Text;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// A method's IL as text for golden tests: one instruction per line, branch targets as IL_xxxx,
/// members as Type::Name, PCs of the given module as <c>pc#site</c> so the listing reads without
/// knowing the module id, and the site index a kcov probe takes (the constant before a call into
/// the module's &lt;Kcov&gt; class) as <c>site#N</c>. Exception handlers follow the code.
/// </summary>
internal static class IlListing
{
    public static string Of(string assemblyPath, string typeName, string methodName, uint moduleId = 0)
    {
        using var module = ModuleDefinition.ReadModule(assemblyPath);
        var method = module.GetTypes().Single(t => t.FullName == typeName).Methods.Single(m => m.Name == methodName);
        return Of(method, moduleId);
    }

    public static string Of(MethodDefinition method, uint moduleId)
    {
        var text = new StringBuilder();
        foreach (var i in method.Body.Instructions)
        {
            bool siteIndex = i.Next is { OpCode.Code: Code.Call, Operand: MethodReference { DeclaringType.Name: "<Kcov>" } }
                && i.OpCode.Code is Code.Ldc_I4 or Code.Ldc_I4_S or (>= Code.Ldc_I4_0 and <= Code.Ldc_I4_8);
            text.Append(Label(i)).Append(": ").Append(i.OpCode.Name)
                .Append(siteIndex ? " site#" + SiteIndex(i) : Operand(i.Operand, moduleId)).Append('\n');
        }
        foreach (var h in method.Body.ExceptionHandlers)
        {
            text.Append(CultureInfo.InvariantCulture, $".try {Label(h.TryStart)} to {End(h.TryEnd)} {h.HandlerType.ToString().ToLowerInvariant()}");
            if (h.FilterStart is not null)
                text.Append(" filter ").Append(Label(h.FilterStart));
            text.Append(CultureInfo.InvariantCulture, $" handler {Label(h.HandlerStart)} to {End(h.HandlerEnd)}\n");
        }
        return text.ToString();
    }

    private static int SiteIndex(Instruction i) => i.OpCode.Code switch
    {
        Code.Ldc_I4 => (int)i.Operand,
        Code.Ldc_I4_S => (sbyte)i.Operand,
        _ => i.OpCode.Code - Code.Ldc_I4_0,
    };

    private static string Label(Instruction i) => "IL_" + i.Offset.ToString("x4", CultureInfo.InvariantCulture);

    private static string End(Instruction? i) => i is null ? "end" : Label(i);

    private static string Operand(object? operand, uint moduleId) => operand switch
    {
        null => "",
        Instruction target => " " + Label(target),
        Instruction[] targets => " (" + string.Join(", ", targets.Select(Label)) + ")",
        long value when moduleId != 0 && (ulong)value >> 32 == moduleId => " pc#" + (uint)value,
        long value => " " + value.ToString(CultureInfo.InvariantCulture),
        int value => " " + value.ToString(CultureInfo.InvariantCulture),
        sbyte value => " " + value.ToString(CultureInfo.InvariantCulture),
        string s => " \"" + s + "\"",
        MethodReference m => " " + m.DeclaringType.Name + "::" + m.Name,
        FieldReference f => " " + f.DeclaringType.Name + "::" + f.Name,
        TypeReference t => " " + t.Name,
        VariableDefinition v => " V_" + v.Index.ToString(CultureInfo.InvariantCulture),
        ParameterDefinition p => " " + (p.Name.Length > 0 ? p.Name : "A_" + p.Index),
        _ => " " + operand,
    };
}
