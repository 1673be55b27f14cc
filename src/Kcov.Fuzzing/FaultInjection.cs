namespace Kcov.Fuzzing;

/// <summary>
/// Faults at named points of the supervisor and the executor, for the fault-injection tests
/// (tests/Kcov.Fuzzing.Tests/FaultInjectionTests.cs). <see cref="EnvironmentVariable"/> holds
/// <c>point@n=action[,...]</c>: the n-th arrival of a process at that point does the action,
/// <c>kill</c> (SIGKILL to this process, which can do nothing about it), <c>enospc</c> or
/// <c>eacces</c> (throws what .NET throws for that errno). Executors inherit the variable, and each
/// process counts its own arrivals. With <see cref="OnceVariable"/> naming a file, a fault happens in
/// one process only (the first to create that file), so a restarted executor runs clean.
/// Unset, a point costs one static null check.
/// <list type="bullet">
/// <item><c>input</c>: an executor is about to run an input (mid-input).</item>
/// <item><c>send-NewInput</c>, <c>send-Crash</c>: a message is half written (mid-report).</item>
/// <item><c>corpus-save</c>, <c>artifact-save</c>: the supervisor's file is half written (mid-save).</item>
/// </list>
/// </summary>
internal static class FaultInjection
{
    public const string EnvironmentVariable = "KCOV_FUZZ_FAULTS";
    public const string OnceVariable = "KCOV_FUZZ_FAULTS_ONCE";

    private static readonly Dictionary<string, (int At, string Action)>? s_faults = Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));
    private static readonly Dictionary<string, int> s_arrivals = [];

    /// <summary>True when this arrival at <paramref name="point"/> must fault: the caller does its partial work, then calls <see cref="Act"/>.</summary>
    public static bool Hit(string point)
    {
        if (s_faults is null || !s_faults.TryGetValue(point, out var fault))
            return false;
        lock (s_arrivals)
        {
            int n = s_arrivals.GetValueOrDefault(point) + 1;
            s_arrivals[point] = n;
            return n == fault.At && FirstProcess();
        }
    }

    private static bool FirstProcess()
    {
        if (Environment.GetEnvironmentVariable(OnceVariable) is not { Length: > 0 } once)
            return true;
        try
        {
            File.Open(once, FileMode.CreateNew).Dispose();
            return true;
        }
        catch (IOException)
        {
            return false; // another process had the fault
        }
    }

    /// <summary>Does the fault of <paramref name="point"/> (after <see cref="Hit"/> said so).</summary>
    public static void Act(string point, string path = "")
    {
        switch (s_faults![point].Action)
        {
            case "kill":
                Console.Out.Flush();
                Console.Error.Flush();
                System.Diagnostics.Process.GetCurrentProcess().Kill();
                Thread.Sleep(Timeout.Infinite);
                break;
            case "enospc":
                throw new IOException($"No space left on device : '{path}'", 28);
            case "eacces":
                throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
        }
    }

    /// <summary><see cref="Hit"/> and <see cref="Act"/> where there is no partial work to do first.</summary>
    public static void At(string point, string path = "")
    {
        if (Hit(point))
            Act(point, path);
    }

    private static Dictionary<string, (int, string)>? Parse(string? spec)
    {
        if (string.IsNullOrEmpty(spec))
            return null;
        var faults = new Dictionary<string, (int, string)>();
        foreach (var item in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // point@n=action
            int at = item.IndexOf('@'), eq = item.IndexOf('=');
            if (at <= 0 || eq < at || !int.TryParse(item.AsSpan(at + 1, eq - at - 1), out int n) || item[(eq + 1)..] is not ("kill" or "enospc" or "eacces"))
                throw new ArgumentException($"{EnvironmentVariable}: '{item}' is not point@n=kill|enospc|eacces");
            faults[item[..at]] = (n, item[(eq + 1)..]);
        }
        return faults;
    }
}
