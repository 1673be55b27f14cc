using System.Reflection;
using System.Reflection.Emit;

namespace Kcov.Fuzzing.Benchmarks;

/// <summary>
/// Generates a target with <c>blocks</c> basic blocks, as <c>blocks / 20</c> methods of 20 blocks,
/// in one of two instrumentations of the same code:
/// <list type="bullet">
/// <item>kcov: each block starts with <c>Kcov.Trace.Pc(id)</c> (<c>ldc.i8 id; call Trace.Pc</c>; the IL rewriter's probe
/// passes a frame local and a 32-bit index instead, and reaches the same trace path);</item>
/// <item>counters: each block starts with <c>counters[id]++</c> on a <c>long[blocks]</c>, the gcov/coverlet scheme.</item>
/// </list>
/// Each block also does a little real work (<c>x = x * 31 + id</c>), so the blocks are not empty.
/// IL is emitted with System.Reflection.Emit: methods are compiled only when called, so a
/// program of a million blocks costs only what it runs, as a large real program would.
/// </summary>
internal sealed class BlockTargets
{
    public const int BlocksPerMethod = 20;

    /// <summary>The methods inputs 0..15 run.</summary>
    private readonly Func<long, long>[] _methods;

    private BlockTargets(Func<long, long>[] methods, long[]? counters)
    {
        _methods = methods;
        Counters = counters;
    }

    /// <summary>The counters of the counters variant (null for kcov).</summary>
    public long[]? Counters { get; }

    /// <summary>How many different inputs <see cref="Run"/> knows: each runs another method.</summary>
    public const int Inputs = 16;

    /// <summary>
    /// Runs input <paramref name="input"/> (0..15): the 20 blocks of one method, the 16 methods
    /// spread over the whole program. The code that runs is the same size whatever the program's
    /// size, as in the seed's experiment: only the instrumentation's reset and collect differ.
    /// </summary>
    public long Run(int input, long x) => _methods[input](x);

    public static BlockTargets Generate(int blocks, bool kcov)
    {
        int methods = blocks / BlocksPerMethod;
        var counters = kcov ? null : new long[blocks];
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName($"Blocks{blocks}{(kcov ? "Kcov" : "Counters")}"), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("m");
        var type = module.DefineType("Target", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed);
        var countersField = type.DefineField("Counters", typeof(long[]), FieldAttributes.Public | FieldAttributes.Static);
        var tracePc = typeof(Trace).GetMethod(nameof(Trace.Pc))!;
        for (int m = 0; m < methods; m++)
        {
            var method = type.DefineMethod($"M{m}", MethodAttributes.Public | MethodAttributes.Static, typeof(long), [typeof(long)]);
            var il = method.GetILGenerator();
            for (int b = 0; b < BlocksPerMethod; b++)
            {
                int id = m * BlocksPerMethod + b;
                if (kcov)
                {
                    // Trace.Pc(id);
                    il.Emit(OpCodes.Ldc_I8, (long)id);
                    il.Emit(OpCodes.Call, tracePc);
                }
                else
                {
                    // Counters[id]++;
                    il.Emit(OpCodes.Ldsfld, countersField);
                    il.Emit(OpCodes.Ldc_I4, id);
                    il.Emit(OpCodes.Ldelema, typeof(long));
                    il.Emit(OpCodes.Dup);
                    il.Emit(OpCodes.Ldind_I8);
                    il.Emit(OpCodes.Ldc_I4_1);
                    il.Emit(OpCodes.Conv_I8);
                    il.Emit(OpCodes.Add);
                    il.Emit(OpCodes.Stind_I8);
                }
                // x = x * 31 + id;
                il.Emit(OpCodes.Ldarg_0);
                il.Emit(OpCodes.Ldc_I4_S, (sbyte)31);
                il.Emit(OpCodes.Conv_I8);
                il.Emit(OpCodes.Mul);
                il.Emit(OpCodes.Ldc_I8, (long)id);
                il.Emit(OpCodes.Add);
                il.Emit(OpCodes.Starg_S, (byte)0);
                // A branch ends the block, as in real code: if (x == -1) return x;
                var next = il.DefineLabel();
                il.Emit(OpCodes.Ldarg_0);
                il.Emit(OpCodes.Ldc_I4_M1);
                il.Emit(OpCodes.Conv_I8);
                il.Emit(OpCodes.Bne_Un, next);
                il.Emit(OpCodes.Ldarg_0);
                il.Emit(OpCodes.Ret);
                il.MarkLabel(next);
            }
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ret);
        }
        var built = type.CreateType();
        built.GetField("Counters")!.SetValue(null, counters);
        // Only the methods the inputs run are looked up (and so compiled); the rest stay IL.
        var delegates = new Func<long, long>[Inputs];
        for (int i = 0; i < Inputs; i++)
            delegates[i] = built.GetMethod($"M{i * (methods / Inputs)}")!.CreateDelegate<Func<long, long>>();
        return new BlockTargets(delegates, counters);
    }
}
