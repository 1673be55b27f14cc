namespace Kcov.Fuzzing.Crashes;

/// <summary>One frame of the runtime's fatal report.</summary>
/// <param name="Text">The frame as the runtime wrote it, trimmed ("at Ns.Type.Method(Int32)").</param>
/// <param name="Method">"Ns.Type.Method".</param>
/// <param name="Repeats">How often it repeats (a stack overflow's "Repeated N times:" block), else 1.</param>
internal sealed record RuntimeFrame(string Text, string Method, int Repeats);
