using System.Buffers.Binary;
using Kcov.Coverage;
using Kcov.Fuzzing;
using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;
using Kcov.Fuzzing.Service;
using Xunit.Abstractions;

namespace Kcov.AspNetCore.Tests;

/// <summary>
/// The fuzzer targets a running service: samples/OrderService, instrumented and run as its own
/// process; each input is a request body sent with the fuzzer's handle, the signal is the coverage
/// of the request and of the queue's processing of its order, read through the control endpoint.
/// The planted bug sits in the queue's consumer and only some bodies reach it.
/// </summary>
[Collection("order service")]
public sealed class HttpFuzzingTests(OrderServiceFixture service, ITestOutputHelper output)
{
    /// <summary>Executions the fuzzer gets to find the planted bug (bench/fuzz-finds.sh-like budgets for the samples).</summary>
    private const int Budget = 20_000;

    private HttpFuzzTarget Target => new() { Url = service.Orders, ControlEndpoint = service.Service.Socket };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TheFuzzerFindsTheBugInTheQueuedWorkAndReportsTheRequestBody(int seed)
    {
        var reporter = new StopAtFirstCrash();
        using var runner = new TargetRunner(new HttpTarget(Target), 1 << 16);
        var gate = new ExecutionGate(null, 0, Budget);
        reporter.Gate = gate;
        var loop = new FuzzLoop(new FuzzerOptions(), runner, gate, reporter, seed, 64, []);
        if (loop.RunSeeds([]))
            loop.Fuzz();

        var (report, body, atExec) = Assert.Single(reporter.Crashes);
        output.WriteLine($"seed {seed}: found after {atExec} executions");
        Assert.StartsWith("FATAL EXCEPTION in the .NET target (in the service, queued work: Order): System.IndexOutOfRangeException", report.Title);
        Assert.StartsWith("System.IndexOutOfRangeException <- OrderService.Fulfilment.Pack", report.Signature);
        Assert.Contains(report.Frames, f => f.Contains("Fulfilment.cs:line", StringComparison.Ordinal));
        // The request that triggered it: a valid order whose first line is a gift wrap.
        Assert.Equal("ORD1"u8.ToArray(), body[..4]);
        Assert.Equal(2, body[4]);
        Assert.Equal(0x7777, BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(6)));
        Assert.Contains("INPUT: ", report.Render(body));
    }

    [Fact]
    public void TheCoverageOfOneRequestIsItsParsingAndItsQueuedWorkSymbolized()
    {
        using var runner = new TargetRunner(new HttpTarget(Target), 1 << 16);
        // The area is the service's (/proc/<its pid>/fd/n): never read as this executor's after a crash.
        Assert.Equal(TargetRunner.ServiceArea, runner.AreaDescriptor);
        byte[] order = [.. "ORD1"u8, 2, 2, 0x34, 0x12, 3, 0x35, 0x12, 1];
        Assert.Null(runner.Run(order));
        var symbolizer = new Symbolizer([PcMap.Load(Path.Combine(InstrumentedOrderService.AppDirectory, "OrderService.kcovmap"))]);
        var area = runner.Area;
        var functions = area.Slice(1, (int)area[0]).ToArray().Select(pc => symbolizer.Symbolize(pc).Function).ToHashSet();

        Assert.Contains("OrderService.OrderParser.TryParse", functions);
        Assert.Contains("OrderService.Fulfilment.Pack", functions); // on the queue's consumer, after the response
        Assert.Contains("OrderService.Fulfilment.Confirm", functions); // after the consumer's await
        Assert.Contains("OrderService.Inventory.Take", functions);
        // The restock loop runs all the while under its own global handle: none of it is ours.
        Assert.DoesNotContain("OrderService.Inventory.Restock", functions);
        Assert.DoesNotContain(functions, f => f.StartsWith("OrderService.RestockService", StringComparison.Ordinal));
    }

    [Fact]
    public void AClientOfTheRestockLoopsGlobalHandleSeesTheLoopAndNothingElse()
    {
        using var device = KcovRemoteDevice.Open(service.Service.Socket);
        device.InitTrace(1 << 16);
        using var area = device.Map();
        // OrderService's RestockService: subsystem 2, the first (and only) loop of the process.
        device.RemoteEnable(KcovMode.TracePc, 1 << 12, [KcovAbi.RemoteHandle(2UL << 56, 1)]);
        // Orders meanwhile, without a header and with another client's handle: none of it is the loop's.
        using var runner = new TargetRunner(new HttpTarget(Target), 1 << 16);
        for (int i = 0; i < 20 || area.Words[0] < 10; i++)
        {
            Assert.True(i < 10_000, "the restock loop never ran");
            Assert.Null(runner.Run([.. "ORD1"u8, 2, 1, (byte)i, 0x12, 3]));
        }

        var symbolizer = new Symbolizer([PcMap.Load(Path.Combine(InstrumentedOrderService.AppDirectory, "OrderService.kcovmap"))]);
        var words = area.Words;
        var functions = words.Slice(1, (int)words[0]).ToArray().Select(pc => symbolizer.Symbolize(pc).Function).ToHashSet();
        Assert.Contains("OrderService.Inventory.Restock", functions);
        Assert.All(functions, f => Assert.True(f == "OrderService.Inventory.Restock" || f.StartsWith("OrderService.RestockService", StringComparison.Ordinal),
            $"{f} ran outside the loop's iterations but was collected"));
    }

    [Fact]
    public void ReproducingTheCrashThroughTheRunnerGivesTheSameReport()
    {
        using var runner = new TargetRunner(new HttpTarget(Target), 1 << 16);
        byte[] giftWrapFirst = [.. "ORD1"u8, 2, 1, 0x77, 0x77, 1];
        var error = runner.Run(giftWrapFirst);

        var report = CrashReport.FromException(Assert.IsType<ServiceFaultException>(error));
        Assert.StartsWith("System.IndexOutOfRangeException <- OrderService.Fulfilment.Pack", report.Signature);
        // The service logged it and goes on: the next order is processed normally.
        Assert.Null(runner.Run([.. "ORD1"u8, 2, 1, 0x01, 0x00, 1]));
    }

    [Fact]
    public void AServiceThatGoesAwayEndsTheLoopWithTheInputThatWasRunningAsTheCrash()
    {
        using var dir = new TempDirectory();
        using var leaving = InstrumentedOrderService.Start(dir.Combine("kcov.sock"));
        var target = new HttpFuzzTarget { Url = new Uri(leaving.BaseAddress, "orders"), ControlEndpoint = leaving.Socket };
        var reporter = new StopAtFirstCrash();
        using var runner = new TargetRunner(new HttpTarget(target), 1 << 16);
        var loop = new FuzzLoop(new FuzzerOptions(), runner, new ExecutionGate(null, 0, Budget), reporter, 1, 64, []);
        Assert.True(loop.RunSeeds([]));
        // The service stops (SIGTERM: an orderly end): its port and its
        // endpoint go away as they would if it died.
        leaving.Dispose();
        loop.Fuzz();

        var (report, _, _) = Assert.Single(reporter.Crashes);
        Assert.StartsWith("FATAL EXCEPTION in the .NET target: Kcov.Fuzzing.Service.ServiceLostException: the service", report.Title);
        Assert.True(loop.Execs < 10, $"the loop went on for {loop.Execs} executions without a service");
    }
}
