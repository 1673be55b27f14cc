using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kcov.Instrumentation;

/// <summary>
/// Cecil's embedded-PDB writer insists on a file name (it never uses it: the PDB goes into the
/// image), and a module written to a memory stream has none. This passes the module's own name.
/// </summary>
internal sealed class EmbeddedPdbWriterProvider : ISymbolWriterProvider
{
    private readonly EmbeddedPortablePdbWriterProvider _inner = new();

    public ISymbolWriter GetSymbolWriter(ModuleDefinition module, string fileName) =>
        _inner.GetSymbolWriter(module, string.IsNullOrEmpty(fileName) ? module.Name : fileName);

    public ISymbolWriter GetSymbolWriter(ModuleDefinition module, Stream symbolStream) =>
        _inner.GetSymbolWriter(module, module.Name);
}
