namespace Kcov.Instrumentation.Tests;

/// <summary>What a call did, as a comparable string: its result, or the type of what it threw.</summary>
internal static class Outcome
{
    public static string Of(Func<byte[], string> run, byte[] input)
    {
        try
        {
            return "ok: " + run(input);
        }
        catch (Exception e)
        {
            return "threw: " + e.GetType().FullName;
        }
    }
}
