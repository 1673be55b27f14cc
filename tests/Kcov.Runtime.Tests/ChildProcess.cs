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
        if (args is ["child-area", var how])
            return ChildArea(how);
        Console.Error.WriteLine("usage: child-read <area shared name> | child-area exit|throw|overflow|kill");
        return 2;
    }

    /// <summary>
    /// Enables a device, traces 0xa1 and 0xa2, prints the area's name, waits for a line on stdin
    /// (the parent has mapped the area) and ends as <paramref name="how"/> says, never closing the device.
    /// </summary>
    private static int ChildArea(string how)
    {
        var device = KcovDevice.OpenEnabled(64, KcovMode.TracePc, out var area);
        area.Words[0] = 0;
        Trace.Pc(0xa1);
        Trace.Pc(0xa2);
        Console.WriteLine(area.SharedName);
        Console.Out.Flush();
        Console.In.ReadLine();
        GC.KeepAlive(device);
        switch (how)
        {
            case "throw":
                throw new InvalidOperationException("the child ends with an unhandled exception");
            case "overflow":
                return Recurse(1);
            case "kill":
                Thread.Sleep(Timeout.Infinite); // the parent sends SIGKILL
                return 0;
            default:
                Environment.Exit(0); // no Dispose, no finalizers: what a program that forgets does
                return 0;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int Recurse(int depth) => Recurse(depth + 1) + 1;

    /// <summary>Runs this assembly as a child process and returns its exit code and stdout.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) =>
        DotnetProcess.Run([typeof(ChildProcess).Assembly.Location, .. args]);
}
