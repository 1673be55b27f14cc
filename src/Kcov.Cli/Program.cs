namespace Kcov.Cli;

public static class Program
{
    public static int Main(string[] args) => KcovCli.Run(args, System.Console.In, System.Console.Out, System.Console.Error);
}
