using System.Reflection;
using System.Runtime.CompilerServices;

namespace Kcov.Instrumentation.Tests;

/// <summary>
/// JIT-compiles every method with a body of an assembly (RuntimeHelpers.PrepareMethod). Generic
/// types and methods are instantiated with the first types found that satisfy their constraints.
/// A failure counts only if the same method of the original assembly compiles.
/// </summary>
internal static class MethodPreparer
{
    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    public sealed record Report(int Prepared, int Uninstantiable, int FailedLikeOriginal, IReadOnlyList<string> Failures);

    public static Report PrepareAll(Assembly instrumented, Assembly original)
    {
        var pool = CandidatePool(instrumented);
        int prepared = 0, uninstantiable = 0, likeOriginal = 0;
        var failures = new List<string>();
        foreach (var type in Types(instrumented))
        {
            foreach (var method in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
            {
                if (method.GetMethodBody() is null)
                    continue;
                var instantiation = Instantiate(type, method, pool);
                if (instantiation is null)
                {
                    uninstantiable++;
                    continue;
                }
                var error = TryPrepare(method, instantiation);
                if (error is null)
                {
                    prepared++;
                    continue;
                }
                var twin = original.ManifestModule.ResolveMethod(method.MetadataToken);
                var originalError = twin is null ? null : TryPrepare(twin, Rebind(instantiation, instrumented, original));
                if (error is not InvalidProgramException && originalError?.GetType() == error.GetType())
                    likeOriginal++;
                else
                    failures.Add($"{type.FullName}.{method.Name}: {error.GetType().Name}: {error.Message}");
            }
        }
        return new Report(prepared, uninstantiable, likeOriginal, failures);
    }

    private static Exception? TryPrepare(MethodBase method, Type[] instantiation)
    {
        try
        {
            if (instantiation.Length == 0)
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
            else
                RuntimeHelpers.PrepareMethod(method.MethodHandle, [.. instantiation.Select(t => t.TypeHandle)]);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static IEnumerable<Type> Types(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.Where(t => t is not null)!;
        }
    }

    /// <summary>Type arguments for the type's, then the method's generic parameters; empty if none; null if none found.</summary>
    private static Type[]? Instantiate(Type type, MethodBase method, Type[] pool)
    {
        var parameters = (type.IsGenericTypeDefinition ? type.GetGenericArguments() : [])
            .Concat(method.IsGenericMethodDefinition ? method.GetGenericArguments() : []).ToArray();
        if (parameters.Length == 0)
            return [];
        var choices = parameters.Select(p => pool.Where(c => Satisfies(p, c)).Take(3).ToArray()).ToArray();
        if (choices.Any(c => c.Length == 0))
            return null;
        int typeArity = type.IsGenericTypeDefinition ? type.GetGenericArguments().Length : 0;
        // Try combinations in order (at most 3^n, capped) until the runtime accepts one.
        int combinations = (int)Math.Min(64, choices.Aggregate(1L, (n, c) => n * c.Length));
        for (int k = 0; k < combinations; k++)
        {
            var candidate = new Type[parameters.Length];
            int rest = k;
            for (int i = 0; i < parameters.Length; i++)
            {
                candidate[i] = choices[i][rest % choices[i].Length];
                rest /= choices[i].Length;
            }
            try
            {
                var closedType = typeArity > 0 ? type.MakeGenericType(candidate[..typeArity]) : type;
                if (method is MethodInfo info && info.IsGenericMethodDefinition)
                    info.MakeGenericMethod(candidate[typeArity..]);
                _ = closedType;
                return candidate;
            }
            catch (ArgumentException)
            {
            }
        }
        return null;
    }

    private static bool Satisfies(Type parameter, Type candidate)
    {
        var flags = parameter.GenericParameterAttributes;
        if (flags.HasFlag(GenericParameterAttributes.ReferenceTypeConstraint) && candidate.IsValueType)
            return false;
        if (flags.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint) && !candidate.IsValueType)
            return false;
        if (flags.HasFlag(GenericParameterAttributes.DefaultConstructorConstraint) && !candidate.IsValueType && candidate.GetConstructor(Type.EmptyTypes) is null)
            return false;
        return parameter.GetGenericParameterConstraints()
            .All(c => c.ContainsGenericParameters || c.IsAssignableFrom(candidate));
    }

    /// <summary>Common BCL types, then the library's own concrete non-generic types.</summary>
    private static Type[] CandidatePool(Assembly assembly) =>
    [
        typeof(object), typeof(string), typeof(int), typeof(long), typeof(char), typeof(byte), typeof(double),
        typeof(bool), typeof(Guid), typeof(DateTime), typeof(Exception), typeof(List<int>), typeof(Stream),
        .. Types(assembly).Where(t => !t.IsGenericTypeDefinition && !t.IsAbstract && !t.IsInterface && !t.IsByRefLike
            && !t.IsPointer && t != typeof(void)),
    ];

    /// <summary>The same instantiation with the instrumented library's types replaced by the original's.</summary>
    private static Type[] Rebind(Type[] types, Assembly from, Assembly to) =>
        [.. types.Select(t => t.Assembly == from ? to.ManifestModule.ResolveType(t.MetadataToken) : t)];
}
