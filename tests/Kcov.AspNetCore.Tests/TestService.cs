using Kcov.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kcov.AspNetCore.Tests;

/// <summary>
/// A real Kestrel server on 127.0.0.1 (port 0) in this process, with Kcov.AspNetCore and its control
/// endpoint on a Unix socket. Its code is instrumented by hand (explicit <see cref="Trace.Pc"/> calls
/// whose PCs encode where they ran and for which request), so a test can say exactly which PCs a
/// client must see:
/// <list type="bullet">
/// <item>POST /work, body [tag]: the handler traces <see cref="Handler"/>+tag, awaits, traces
/// <see cref="HandlerAfterAwait"/>+tag and queues the tag; the consumer traces <see cref="Consumer"/>+tag,
/// awaits, traces <see cref="ConsumerAfterAwait"/>+tag, and throws for tag <see cref="FaultyTag"/>;</item>
/// <item>POST /throw: the handler traces <see cref="Throwing"/> and throws;</item>
/// <item>POST /slow: traces <see cref="SlowBefore"/>, waits for the test to open <see cref="Gate"/>, traces <see cref="SlowAfter"/>;</item>
/// <item>a hosted loop with its own global handle (<see cref="LoopHandle"/>) traces <see cref="Loop"/> and
/// <see cref="LoopAfterAwait"/> every few milliseconds.</item>
/// </list>
/// </summary>
internal sealed class TestService : IAsyncDisposable
{
    public const ulong Handler = 0xA000, HandlerAfterAwait = 0xB000, Consumer = 0xC000, ConsumerAfterAwait = 0xD000;
    public const ulong Throwing = 0xE100, SlowBefore = 0xE000, SlowAfter = 0xE001, Loop = 0xF000, LoopAfterAwait = 0xF001;
    public const byte FaultyTag = 0xEE;
    public const byte LoopSubsystem = 3;

    private readonly WebApplication _app;
    private int _requestsDone;

    private TestService(WebApplication app, string socket, KcovWorker loop)
    {
        _app = app;
        Socket = socket;
        LoopHandle = loop.Handle;
    }

    public string Socket { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public ulong LoopHandle { get; }

    /// <summary>Set when a /slow request has traced its first PC and waits; the test opens <see cref="Gate"/>.</summary>
    public TaskCompletionSource SlowEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Requests that went all the way back out through Kcov's middleware (its section stopped).</summary>
    public int RequestsDone => Volatile.Read(ref _requestsDone);

    public static async Task<TestService> StartAsync(string socket)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddKcov(o => o.ControlEndpoint = socket);
        builder.Services.AddKcovWorkQueue<byte>();
        var loop = KcovWorker.Next(LoopSubsystem, "test-loop");
        builder.Services.AddHostedService(provider => new ConsumerService(provider.GetRequiredService<KcovWorkQueue<byte>>()));
        builder.Services.AddHostedService(_ => new LoopService(loop));
        var app = builder.Build();
        var service = new TestService(app, socket, loop);
        // Outside Kcov's middleware: a request counted here has left its remote section.
        app.Use(async (context, next) =>
        {
            try { await next(context); }
            finally { Interlocked.Increment(ref service._requestsDone); }
        });
        app.UseKcov();
        app.MapPost("/work", async (HttpRequest request, KcovWorkQueue<byte> queue) =>
        {
            byte tag = await ReadTag(request);
            Trace.Pc(Handler + tag);
            await Task.Yield();
            Trace.Pc(HandlerAfterAwait + tag);
            await queue.EnqueueAsync(tag);
            return Results.Ok();
        });
        app.MapPost("/throw", () =>
        {
            Trace.Pc(Throwing);
            throw new InvalidOperationException("planted in the handler");
        });
        app.MapPost("/slow", async () =>
        {
            Trace.Pc(SlowBefore);
            service.SlowEntered.TrySetResult();
            await service.Gate.Task;
            Trace.Pc(SlowAfter);
            return Results.Ok();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        service.BaseAddress = new Uri(address);
        return service;
    }

    private static async Task<byte> ReadTag(HttpRequest request)
    {
        var buffer = new byte[1];
        return await request.Body.ReadAsync(buffer) == 1 ? buffer[0] : (byte)0;
    }

    /// <summary>Open connections to the control endpoint.</summary>
    public int Connections() =>
        _app.Services.GetServices<IHostedService>().OfType<KcovControlService>().Single().Server!.Connections;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The queue's consumer: each tag in a remote section of the common handle of the request that queued it.</summary>
    private sealed class ConsumerService(KcovWorkQueue<byte> queue) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
            queue.ConsumeAsync(async (tag, _) =>
            {
                Trace.Pc(TestService.Consumer + tag);
                await Task.Yield();
                Trace.Pc(ConsumerAfterAwait + tag);
                if (tag == FaultyTag)
                    throw new InvalidOperationException("planted in the queue's consumer");
            }, stoppingToken);
    }

    /// <summary>A hosted loop with a global handle of its own, one remote section per iteration.</summary>
    private sealed class LoopService(KcovWorker worker) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await worker.RunIterationAsync(async () =>
                {
                    Trace.Pc(Loop);
                    await Task.Yield();
                    Trace.Pc(LoopAfterAwait);
                });
                try { await Task.Delay(5, stoppingToken); } catch (OperationCanceledException) { }
            }
        }
    }
}
