namespace Kcov.Fuzzing.Mutation;

/// <summary>
/// The one mutator signature (libFuzzer's): mutate <paramref name="data"/>[0..size) in place,
/// staying within <paramref name="maxSize"/> (the buffer is at least that long), and return the
/// new size, or 0 when this mutator could not do anything with this input.
/// </summary>
internal delegate int Mutator(MutationContext context, byte[] data, int size, int maxSize);
