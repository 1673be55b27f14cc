using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation.Tests;

/// <summary>The JIT check of the real-library tests can fail: a body with invalid IL is reported.</summary>
public sealed class MethodPreparerTests
{
    [Fact]
    public void InvalidIlIsReportedAsAFailure()
    {
        using var dir = new TempDirectory();
        var module = ModuleDefinition.CreateModule("Broken", ModuleKind.Dll);
        var type = new TypeDefinition("", "Broken", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed, module.TypeSystem.Object);
        module.Types.Add(type);
        var method = new MethodDefinition("PopsNothing", MethodAttributes.Public | MethodAttributes.Static, module.TypeSystem.Void);
        method.Body.Instructions.Add(Instruction.Create(OpCodes.Pop));
        method.Body.Instructions.Add(Instruction.Create(OpCodes.Ret));
        type.Methods.Add(method);
        string path = dir.Combine("Broken.dll");
        module.Write(path);
        var context = new InstrumentedLoadContext([path]);
        var assembly = context.LoadFromAssemblyPath(path);
        var report = MethodPreparer.PrepareAll(assembly, assembly);
        Assert.Contains(report.Failures, f => f.Contains("PopsNothing") && f.Contains(nameof(InvalidProgramException)));
        context.Unload();
    }
}
