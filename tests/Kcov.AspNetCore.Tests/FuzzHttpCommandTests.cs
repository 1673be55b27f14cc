namespace Kcov.AspNetCore.Tests;

/// <summary>
/// <c>dotnet kcov fuzz-http</c> end to end: the CLI is the supervisor, started again as its executor, and
/// fuzzes the instrumented OrderService running as its own process, from an empty corpus with a
/// bounded budget; the crash artifact is the request body, and reproducing it gives the report again.
/// </summary>
[Collection("order service")]
public sealed class FuzzHttpCommandTests(OrderServiceFixture service) : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public void FindsTheQueuedWorkBugSavesTheBodyAndReproducesIt()
    {
        string corpus = _dir.Combine("corpus");
        string url = service.Orders.ToString();
        var fuzz = Kcov("fuzz-http", url, "--control", service.Service.Socket, "-runs=20000", "-seed=1", "-max_len=64", $"-artifact_prefix={_dir.Path}/", corpus);

        Assert.True(fuzz.ExitCode == 77, $"exit code {fuzz.ExitCode}\n{fuzz.Stderr}");
        Assert.Contains("==ERROR: libFuzzer: FATAL EXCEPTION in the .NET target (in the service, queued work: Order): System.IndexOutOfRangeException", fuzz.Stderr);
        // The service's frames are the target's; the work queue that called them is marked as the runtime's.
        Assert.Matches(@"\n   at OrderService\.Fulfilment\.Pack\(", fuzz.Stderr);
        Assert.Matches(@"\n   \(runtime\) at Kcov\.AspNetCore\.KcovWorkQueue`1\.ProcessAsync\(", fuzz.Stderr);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash System.IndexOutOfRangeException <- OrderService.Fulfilment.Pack", fuzz.Stderr);
        string artifact = Assert.Single(Directory.GetFiles(_dir.Path, "crash-*"));
        byte[] body = File.ReadAllBytes(artifact);
        Assert.Equal("ORD1"u8.ToArray(), body[..4]);
        Assert.NotEmpty(Directory.GetFiles(corpus));

        var reproduce = Kcov("fuzz-http", url, "--control", service.Service.Socket, artifact);
        Assert.True(reproduce.ExitCode == 77, reproduce.Stderr);
        Assert.Contains("SUMMARY: Kcov.Fuzzing: crash System.IndexOutOfRangeException <- OrderService.Fulfilment.Pack", reproduce.Stderr);
    }

    [Fact]
    public void AControlEndpointNobodyServesIsOneLineBeforeAnythingStarts()
    {
        var fuzz = Kcov("fuzz-http", service.Orders.ToString(), "--control", _dir.Combine("nobody.sock"), "-runs=10");

        Assert.Equal(1, fuzz.ExitCode);
        string line = Assert.Single(fuzz.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"ERROR: cannot open the kcov control endpoint '{_dir.Combine("nobody.sock")}'", line);
        Assert.Contains("is the service running with KCOV_CONTROL=", line);
    }

    private static (int ExitCode, string Stdout, string Stderr) Kcov(params string[] args) =>
        DotnetProcess.Run([Path.Combine(AppContext.BaseDirectory, "dotnet-kcov.dll"), .. args]);

    public void Dispose() => _dir.Dispose();
}
