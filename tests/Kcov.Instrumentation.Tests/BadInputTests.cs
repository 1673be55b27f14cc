using Mono.Cecil;

namespace Kcov.Instrumentation.Tests;

/// <summary>Every kind of wrong input is refused with its own one-line message, never a crash.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly InstrumentationOptions _options = new() { Trace = TraceModes.Pc };

    private InstrumentationException Refused(string path, InstrumentationOptions? options = null)
    {
        var e = Assert.Throws<InstrumentationException>(() => AssemblyInstrumenter.Instrument(path, _dir.Combine("out"), options ?? _options));
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(File.Exists(_dir.Combine("out", Path.GetFileName(path))), "nothing may be written for a refused input");
        return e;
    }

    private string Write(string name, byte[] bytes)
    {
        string path = _dir.Combine(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Good() => Snippet.Compile("public static class Good { public static int F(int x) => x > 1 ? 2 : 3; }", _dir.Combine("good"), "Good");

    [Fact]
    public void MissingFile() =>
        Assert.Contains("does not exist", Refused(_dir.Combine("nope.dll")).Message);

    [Fact]
    public void Directory_() =>
        Assert.Contains("is a directory", Refused(_dir.Path).Message);

    /// <summary>
    /// Found by self-fuzzing the front end (SelfFuzzTests): one byte of a method's IL changed so that a
    /// call's generic instantiation (MethodSpec) has a signature Cecil cannot decode; its
    /// NotSupportedException escaped from the lazy read of the method body.
    /// </summary>
    [Fact]
    public void AMethodBodyCecilCannotDecode() =>
        Assert.Contains("cannot be read (NotSupportedException", Refused(Path.Combine(AppContext.BaseDirectory, "Findings", "methodspec-signature.dll")).Message);

    [Fact]
    public void RandomBytes() =>
        Assert.Contains("not a PE file", Refused(Write("random.dll", [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251))])).Message);

    [Fact]
    public void EmptyFile() =>
        Assert.Contains("not a PE file", Refused(Write("empty.dll", [])).Message);

    [Theory]
    [InlineData(64)]
    [InlineData(600)]
    [InlineData(2)]
    public void TruncatedAssembly(int divisor)
    {
        byte[] bytes = File.ReadAllBytes(Good());
        string message = Refused(Write("truncated.dll", bytes[..(bytes.Length * (divisor - 1) / divisor)])).Message;
        Assert.Matches("truncated|not a PE file|cannot be read", message);
    }

    [Fact]
    public void NativeDll()
    {
        // A PE image without a CLI header is what a native DLL is: take a real one's headers and drop the CLI directory.
        byte[] bytes = File.ReadAllBytes(Good());
        int pe = BitConverter.ToInt32(bytes, 0x3c);
        int optional = pe + 24;
        bool pe32Plus = BitConverter.ToUInt16(bytes, optional) == 0x20b;
        int cliDirectory = optional + (pe32Plus ? 112 : 96) + 14 * 8;
        Array.Clear(bytes, cliDirectory, 8);
        Assert.Contains("native binary", Refused(Write("native.dll", bytes)).Message);
    }

    [Fact]
    public void ReferenceAssembly() =>
        Assert.Contains("reference assembly", Refused(Snippet.Compile("public static class R { public static int F() => 1; }", _dir.Combine("ref"), "RefOnly", referenceAssembly: true)).Message);

    [Fact]
    public void AlreadyInstrumented()
    {
        var first = AssemblyInstrumenter.Instrument(Good(), _dir.Combine("once"), _options);
        Assert.Contains("already instrumented", Refused(first.AssemblyPath).Message);
    }

    [Fact]
    public void KcovRuntime() =>
        Assert.Contains("Kcov.Runtime", Refused(typeof(Trace).Assembly.Location).Message);

    [Theory]
    [InlineData("System.Text.Json.dll")]
    [InlineData("System.Private.CoreLib.dll")]
    [InlineData("Microsoft.CSharp.dll")]
    [InlineData("netstandard.dll")]
    public void TheBcl(string file)
    {
        string message = Refused(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, file)).Message;
        Assert.True(message.Contains(".NET libraries", StringComparison.Ordinal), message);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Foo[", "never closed")]
    [InlineData("Foo[]", "matches nothing")]
    public void BadPattern(string pattern, string why)
    {
        var e = Refused(Good(), new InstrumentationOptions { Include = [pattern] });
        Assert.Contains("--include", e.Message);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void BadTraceMode() =>
        Assert.Contains("Unknown trace mode", Assert.Throws<InstrumentationException>(() => InstrumentationOptions.ParseTraceModes("pc,edge")).Message);

    [Fact]
    public void OutputIntoTheInputsDirectory()
    {
        string good = Good();
        var e = Assert.Throws<InstrumentationException>(() => AssemblyInstrumenter.Instrument(good, Path.GetDirectoryName(good)!, _options));
        Assert.Contains("never overwrites its input", e.Message);
    }

    [Fact]
    public void StrongNameSignatureIsDroppedWithANoteAndTheIdentityKept()
    {
        string newtonsoft = Path.Combine(AppContext.BaseDirectory, "Newtonsoft.Json.dll");
        var result = AssemblyInstrumenter.Instrument(newtonsoft, _dir.Combine("sn"), _options);
        Assert.Contains(result.Warnings, w => w.Contains("strong-name signature dropped"));
        using var module = ModuleDefinition.ReadModule(result.AssemblyPath);
        Assert.Equal(0, (int)(module.Attributes & ModuleAttributes.StrongNameSigned));
        Assert.Equal(System.Reflection.AssemblyName.GetAssemblyName(newtonsoft).GetPublicKeyToken(),
            System.Reflection.AssemblyName.GetAssemblyName(result.AssemblyPath).GetPublicKeyToken());
    }

    public void Dispose() => _dir.Dispose();
}
