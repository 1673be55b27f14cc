using Mono.Cecil;

namespace Kcov.Instrumentation;

/// <summary>
/// kcov's <c>KCOV_INSTRUMENT := n</c>: decides which methods are left alone. A method is excluded when
/// an attribute named ExcludeFromCodeCoverage(Attribute) or KcovIgnore(Attribute) — matched by name, so
/// targets need no reference to kcov — sits on its assembly, any type around it, itself, or its property
/// or event; when the user method it was generated from is excluded; when it does not match an include
/// pattern or matches an exclude pattern; or when its source file matches an exclude-source pattern.
/// </summary>
internal sealed class Exclusions
{
    private static readonly HashSet<string> AttributeNames =
        ["ExcludeFromCodeCoverageAttribute", "ExcludeFromCodeCoverage", "KcovIgnoreAttribute", "KcovIgnore"];

    private readonly bool _assemblyExcluded;
    private readonly GlobPattern[] _include;
    private readonly GlobPattern[] _exclude;
    private readonly GlobPattern[] _excludeSource;

    /// <exception cref="InstrumentationException">A pattern is bad.</exception>
    public Exclusions(InstrumentationOptions options)
    {
        _include = [.. options.Include.Select(p => GlobPattern.Parse(p, isPath: false, "--include"))];
        _exclude = [.. options.Exclude.Select(p => GlobPattern.Parse(p, isPath: false, "--exclude"))];
        _excludeSource = [.. options.ExcludeSource.Select(p => GlobPattern.Parse(p, isPath: true, "--exclude-source"))];
    }

    private Exclusions(Exclusions patterns, bool assemblyExcluded)
    {
        _include = patterns._include;
        _exclude = patterns._exclude;
        _excludeSource = patterns._excludeSource;
        _assemblyExcluded = assemblyExcluded;
    }

    /// <summary>The same filters bound to one module (whose assembly attribute may exclude it all).</summary>
    public Exclusions For(ModuleDefinition module) =>
        new(this, module.Assembly is { } a && HasExcludingAttribute(a));

    public bool IsExcluded(MethodDefinition method)
    {
        if (_assemblyExcluded)
            return true;
        for (var type = method.DeclaringType; type is not null; type = type.DeclaringType)
        {
            if (HasExcludingAttribute(type))
                return true;
        }
        if (IsExcludedByAttribute(method))
            return true;

        var (ownerType, ownerMethod) = CodeOwner.Of(method);
        bool generated = ownerType != method.DeclaringType || ownerMethod != method.Name;
        if (generated && ownerType.Methods.Any(m => m.Name == ownerMethod && m != method && IsExcludedByAttribute(m)))
            return true;

        string typeName = CodeOwner.TypeName(ownerType);
        string methodName = typeName + "." + ownerMethod;
        bool Matches(GlobPattern p) => p.IsMatch(typeName) || p.IsMatch(methodName);
        if (_include.Length > 0 && !_include.Any(Matches))
            return true;
        if (_exclude.Any(Matches))
            return true;

        if (_excludeSource.Length > 0)
        {
            // Code without sequence points (implicit constructors, plumbing) is in the file of its user method, else of its type.
            string? source = SourceOf(method)
                ?? ownerType.Methods.Where(m => m.Name == ownerMethod).Select(SourceOf).FirstOrDefault(s => s is not null)
                ?? ownerType.Methods.Select(SourceOf).FirstOrDefault(s => s is not null);
            if (source is not null && _excludeSource.Any(p => p.IsMatch(source)))
                return true;
        }
        return false;
    }

    private static bool IsExcludedByAttribute(MethodDefinition method)
    {
        if (HasExcludingAttribute(method))
            return true;
        if (method.IsGetter || method.IsSetter)
            return method.DeclaringType.Properties.Any(p => (p.GetMethod == method || p.SetMethod == method) && HasExcludingAttribute(p));
        if (method.IsAddOn || method.IsRemoveOn || method.IsFire)
            return method.DeclaringType.Events.Any(e => (e.AddMethod == method || e.RemoveMethod == method || e.InvokeMethod == method) && HasExcludingAttribute(e));
        return false;
    }

    private static bool HasExcludingAttribute(ICustomAttributeProvider provider) =>
        provider.HasCustomAttributes && provider.CustomAttributes.Any(a => AttributeNames.Contains(a.AttributeType.Name));

    private static string? SourceOf(MethodDefinition method) =>
        method.DebugInformation.HasSequencePoints
            ? method.DebugInformation.SequencePoints.FirstOrDefault(s => !s.IsHidden)?.Document.Url
            : null;
}
