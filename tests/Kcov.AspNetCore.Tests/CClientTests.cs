using System.Diagnostics;
using Kcov.Control;
using Kcov.Coverage;

namespace Kcov.AspNetCore.Tests;

/// <summary>
/// The wire protocol is kcov's: docs/control-client.c, compiled against the kernel's own
/// &lt;linux/kcov.h&gt; (KCOV_INIT_TRACE, KCOV_REMOTE_ENABLE and struct kcov_remote_arg as C lays them
/// out), drives the running service's device and prints the coverage of a request and its queued
/// work. Runs where a C compiler and the kernel headers are installed (a bare .NET SDK image has neither).
/// </summary>
[Collection("order service")]
public sealed class CClientTests(OrderServiceFixture service) : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task TheCClientSeesTheCoverageOfItsRequestAndQueuedWork()
    {
        if (!File.Exists("/usr/include/linux/kcov.h") || !File.Exists("/usr/bin/cc"))
            return;
        string client = _dir.Combine("control-client");
        var cc = Run("/usr/bin/cc", "-Wall", "-Wextra", "-Werror", "-O1", "-o", client, Path.Combine(AppContext.BaseDirectory, "control-client.c"));
        Assert.True(cc.ExitCode == 0, cc.Output);

        var start = new ProcessStartInfo(client) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(service.Service.Socket);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string first = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException(await stderr);
        Assert.StartsWith("handle 0x", first);
        string handle = first["handle ".Length..];

        using (var http = new HttpClient())
        using (var request = new HttpRequestMessage(HttpMethod.Post, service.Orders) { Content = new ByteArrayContent([.. "ORD1"u8, 2, 1, 0x34, 0x12, 3]) })
        {
            request.Headers.Add(ControlProtocol.HandleHeader, handle);
            using var response = await http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode);
        }
        await process.StandardInput.WriteLineAsync();
        process.StandardInput.Close();
        string pcs = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await stderr);

        var symbolizer = new Symbolizer([PcMap.Load(Path.Combine(InstrumentedOrderService.AppDirectory, "OrderService.kcovmap"))]);
        var functions = PcList.Read(new StringReader(pcs), "control-client").Select(pc => symbolizer.Symbolize(pc).Function).ToHashSet();
        Assert.Contains("OrderService.OrderParser.TryParse", functions);
        Assert.Contains("OrderService.Fulfilment.Pack", functions);
        Assert.DoesNotContain("OrderService.Inventory.Restock", functions);
    }

    private static (int ExitCode, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    public void Dispose() => _dir.Dispose();
}
