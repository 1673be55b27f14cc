using System.Globalization;

namespace Kcov.Tests;

/// <summary>
/// This test assembly is also a program: the cross-process tests start it as a child
/// (`dotnet Kcov.Runtime.Tests.dll child-read NAME`) to be "the other process".
/// The test host never calls Main.
/// </summary>
public static class ChildProcess
{
    public static int Main(string[] args)
    {
        if (args is ["child-read", var name])
        {
            // Map the parent's area by name, print the count and entries, then reset the count.
            using var area = KcovArea.OpenShared(name);
            var words = area.Words;
            ulong count = Volatile.Read(ref words[0]);
            Console.WriteLine(count.ToString(CultureInfo.InvariantCulture));
            for (ulong i = 1; i <= count; i++)
                Console.WriteLine($"0x{words[(int)i]:x}");
            Volatile.Write(ref words[0], 0);
            return 0;
        }
        Console.Error.WriteLine("usage: child-read <area shared name>");
        return 2;
    }

    /// <summary>Runs this assembly as a child process and returns its exit code and stdout.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) =>
        DotnetProcess.Run([typeof(ChildProcess).Assembly.Location, .. args]);
}
