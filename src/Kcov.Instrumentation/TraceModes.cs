namespace Kcov.Instrumentation;

/// <summary>Which of kcov's compiler instrumentations to insert (<c>-fsanitize-coverage=trace-pc,trace-cmp</c>).</summary>
[Flags]
public enum TraceModes
{
    None = 0,

    /// <summary>A <c>Trace.Pc</c> call at the start of every basic block.</summary>
    Pc = 1,

    /// <summary>A <c>Trace.Cmp*</c>/<c>ConstCmp*</c> call before every integer comparison, <c>Trace.Switch</c> before every switch.</summary>
    Cmp = 2,
}
