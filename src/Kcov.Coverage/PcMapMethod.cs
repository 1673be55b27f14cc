namespace Kcov.Coverage;

/// <summary>A method that has sites in a PC map.</summary>
/// <param name="Token">Its metadata token in the input module.</param>
/// <param name="TypeName">Declaring type, namespace-qualified, nested types joined with '+' (as reflection names them).</param>
/// <param name="Name">The method's name.</param>
/// <param name="Signature">Parameter types in parentheses, e.g. <c>(System.String,System.Int32)</c>.</param>
/// <param name="OwnerTypeName">The user type this code belongs to: <see cref="TypeName"/>, or for compiler-generated
/// code (lambdas, async and iterator state machines, local functions) the type of the method it was written in.</param>
/// <param name="OwnerName">The user method this code belongs to (<see cref="Name"/> unless compiler-generated).</param>
public sealed record PcMapMethod(int Token, string TypeName, string Name, string Signature, string OwnerTypeName, string OwnerName)
{
    /// <summary>The name symbolize prints: <c>Namespace.Type.Method</c>.</summary>
    public string FullName => TypeName + "." + Name;
}
