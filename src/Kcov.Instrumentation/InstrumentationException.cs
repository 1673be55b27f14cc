namespace Kcov.Instrumentation;

/// <summary>
/// The input cannot be instrumented (missing, not a .NET assembly, a reference assembly, part of
/// the BCL, already instrumented, a bad pattern...). <see cref="Exception.Message"/> is one line
/// that says what was wrong and what to do; the CLI prints it as is.
/// </summary>
public sealed class InstrumentationException : Exception
{
    public InstrumentationException(string message) : base(message) { }

    public InstrumentationException(string message, Exception inner) : base(message, inner) { }
}
