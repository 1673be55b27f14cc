namespace Kcov.Instrumentation.Tests;

/// <summary>kcov's KCOV_INSTRUMENT := n: attributes matched by name, name patterns and source patterns.</summary>
public sealed class ExclusionTests : IDisposable
{
    private const string Source = """
        using System;
        using System.Diagnostics.CodeAnalysis;
        using System.Threading.Tasks;

        [AttributeUsage(AttributeTargets.All)]
        public sealed class KcovIgnoreAttribute : Attribute { }

        namespace App.Core
        {
            public static class Kept
            {
                public static int A(int x) => x > 0 ? 1 : 2;
            }

            [ExcludeFromCodeCoverage]
            public static class ExcludedType
            {
                public static int B() => 1;
                public static class Nested { public static int C() => 2; }
            }

            public static class Members
            {
                [KcovIgnore]
                public static int Ignored(int x)
                {
                    Func<int, int> f = y => y + x;
                    return f(1);
                }

                [ExcludeFromCodeCoverage]
                public static async Task<int> IgnoredAsync()
                {
                    await Task.Yield();
                    return 1;
                }

                public static int Kept2(int x) { Func<int, int> g = y => y * x; return g(2); }

                [ExcludeFromCodeCoverage]
                public static int Prop => 4;
            }
        }

        namespace App.Util
        {
            public static class Tools { public static int D() => 5; }
        }
        """;

    private readonly TempDirectory _dir = new();
    private readonly string _input;

    public ExclusionTests() => _input = Snippet.Compile(Source, _dir.Combine("in"), "Excl");

    private HashSet<string> Instrumented(InstrumentationOptions options, string source = "")
    {
        string input = source.Length == 0 ? _input : Snippet.Compile(source, _dir.Combine("in2"), "Excl2");
        var result = AssemblyInstrumenter.Instrument(input, _dir.Combine("out-" + Guid.NewGuid().ToString("N")), options);
        return [.. result.Map.Methods.Select(m => m.FullName)];
    }

    [Fact]
    public void AttributesByNameExcludeTypesMethodsPropertiesAndTheirGeneratedCode()
    {
        var methods = Instrumented(new InstrumentationOptions());
        Assert.Contains("App.Core.Kept.A", methods);
        Assert.Contains("App.Core.Members.Kept2", methods);
        Assert.Contains("App.Core.Members+<>c__DisplayClass2_0.<Kept2>b__0", methods);
        Assert.Contains("App.Util.Tools.D", methods);
        Assert.DoesNotContain(methods, m => m.Contains("ExcludedType"));
        Assert.DoesNotContain(methods, m => m.Contains("Ignored"));
        Assert.DoesNotContain("App.Core.Members.get_Prop", methods);
    }

    [Fact]
    public void AssemblyAttributeExcludesEverything()
    {
        var methods = Instrumented(new InstrumentationOptions(), Source.Replace("[AttributeUsage", "[assembly: KcovIgnore]\n[AttributeUsage"));
        Assert.Empty(methods);
    }

    [Fact]
    public void IncludePatternKeepsOnlyMatchingNamespaces()
    {
        var methods = Instrumented(new InstrumentationOptions { Include = ["App.Util.*"] });
        Assert.Equal(["App.Util.Tools.D"], methods);
    }

    [Fact]
    public void ExcludePatternOnAMethodAlsoExcludesItsLambdas()
    {
        var methods = Instrumented(new InstrumentationOptions { Exclude = ["App.Core.Members.Kept?"] });
        Assert.Contains("App.Core.Kept.A", methods);
        Assert.DoesNotContain(methods, m => m.Contains("Kept2"));
    }

    [Fact]
    public void ExcludePatternOnATypeName()
    {
        var methods = Instrumented(new InstrumentationOptions { Exclude = ["App.[CU]*.Kept", "App.Util.Tools"] });
        Assert.DoesNotContain("App.Core.Kept.A", methods);
        Assert.DoesNotContain("App.Util.Tools.D", methods);
        Assert.Contains("App.Core.Members.Kept2", methods);
    }

    [Theory]
    [InlineData("Excl.cs", true)]
    [InlineData("**/in/*.cs", true)]
    [InlineData("in/E*.cs", true)]
    [InlineData("**/src/*.cs", false)]
    [InlineData("Other.cs", false)]
    public void ExcludeSourcePattern(string pattern, bool excludesAll)
    {
        var methods = Instrumented(new InstrumentationOptions { ExcludeSource = [pattern] });
        // The attribute's implicit constructor is the one method with no source file at all.
        methods.Remove("KcovIgnoreAttribute..ctor");
        Assert.Equal(excludesAll, methods.Count == 0);
    }

    public void Dispose() => _dir.Dispose();
}
