using System.Net;

namespace Kcov.AspNetCore.Tests;

/// <summary>
/// What a client of a live service sees, through the control endpoint: the coverage of its own
/// requests and of the work they queued, and none of anybody else's (kcov's per-task exactness,
/// across processes and threads); a worker's coverage for the client that holds its global handle.
/// </summary>
public sealed class RequestCoverageTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly HttpClient _http = new();
    private TestService _service = null!;

    public async Task InitializeAsync() => _service = await TestService.StartAsync(_dir.Combine("kcov.sock"));

    private static IEnumerable<ulong> Expected(IEnumerable<int> tags) => tags.SelectMany(t => new[]
    {
        TestService.Handler + (ulong)t, TestService.HandlerAfterAwait + (ulong)t,
        TestService.Consumer + (ulong)t, TestService.ConsumerAfterAwait + (ulong)t,
    });

    [Fact]
    public async Task EachClientSeesItsRequestsAndTheirQueuedWorkAndNothingElse()
    {
        using var a = CoverageClient.Common(_service.Socket);
        using var b = CoverageClient.Common(_service.Socket);
        var tagsA = Enumerable.Range(1, 30).ToList();
        var tagsB = Enumerable.Range(101, 30).ToList();
        var tagsNone = Enumerable.Range(201, 30).ToList();

        // Three clients hit the same endpoint at once: A and B with their handles, the third without a header.
        async Task Send(CoverageClient client, List<int> tags, bool withHandle)
        {
            foreach (int tag in tags)
            {
                using var response = await _http.SendAsync(client.Post(_service.BaseAddress, "work", [(byte)tag], withHandle));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }
        await Task.WhenAll(Task.Run(() => Send(a, tagsA, true)), Task.Run(() => Send(b, tagsB, true)), Task.Run(() => Send(a, tagsNone, false)));
        Assert.Empty(a.WaitIdle());
        Assert.Empty(b.WaitIdle());

        // Exactly: every handler and consumer PC of its own tags (after awaits, on other threads), nothing of the others'.
        Assert.Equal(Expected(tagsA).Order(), a.Pcs().Order());
        Assert.Equal(Expected(tagsB).Order(), b.Pcs().Order());
    }

    [Fact]
    public async Task AWaitReturnsOnlyAfterTheQueuedWorkRanAndReportsItsFault()
    {
        using var client = CoverageClient.Common(_service.Socket);
        using (var response = await _http.SendAsync(client.Post(_service.BaseAddress, "work", [TestService.FaultyTag])))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var faults = client.WaitIdle();

        var fault = Assert.Single(faults);
        Assert.StartsWith("queued work: Byte", fault);
        Assert.Contains("System.InvalidOperationException: planted in the queue's consumer", fault);
        Assert.Contains(TestService.ConsumerAfterAwait + TestService.FaultyTag, client.Pcs());
        // Reported once: the next wait has nothing.
        Assert.Empty(client.WaitIdle());
    }

    [Fact]
    public async Task AnExceptionInTheRequestIsAFaultOfThatRequest()
    {
        using var client = CoverageClient.Common(_service.Socket);
        using (var response = await _http.SendAsync(client.Post(_service.BaseAddress, "throw", [])))
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);

        var fault = Assert.Single(client.WaitIdle());
        Assert.StartsWith("request POST /throw", fault);
        Assert.Contains("planted in the handler", fault);
        Assert.Equal([TestService.Throwing], client.Pcs());
    }

    [Fact]
    public async Task AClientHoldingTheLoopsGlobalHandleSeesTheLoopAndOnlyIt()
    {
        using var loop = CoverageClient.Global(_service.Socket, _service.LoopHandle);
        using var other = CoverageClient.Common(_service.Socket);
        // Requests with and without a handle run meanwhile; none of it is the loop's.
        for (int tag = 1; tag <= 10; tag++)
        {
            using var with = await _http.SendAsync(other.Post(_service.BaseAddress, "work", [(byte)tag]));
            using var without = await _http.SendAsync(other.Post(_service.BaseAddress, "work", [(byte)tag], withHandle: false));
        }
        Assert.Empty(other.WaitIdle());
        await Until(() => loop.Pcs().Length >= 20);

        Assert.Equal(new ulong[] { TestService.Loop, TestService.LoopAfterAwait }, loop.Pcs().Distinct().Order());
        Assert.Equal(Expected(Enumerable.Range(1, 10)).Order(), other.Pcs().Order());
    }

    [Fact]
    public async Task DisablingMidRequestDropsTheRequestsLateCoverageWithoutAnErrorInTheService()
    {
        using var client = CoverageClient.Common(_service.Socket);
        var pending = _http.SendAsync(client.Post(_service.BaseAddress, "slow", []));
        await _service.SlowEntered.Task;
        // The part before the await reaches the area when its thread leaves the flow.
        await Until(() => client.Pcs().Length > 0);
        int done = _service.RequestsDone;
        client.Device.Disable();
        _service.Gate.SetResult();
        using (var response = await pending)
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Until(() => _service.RequestsDone > done);

        // The part before the disable left its thread at the await and was in the area already; the
        // part after it belongs to a section of the old sequence and is dropped (kcov_remote_stop).
        Assert.Equal([TestService.SlowBefore], client.Pcs());

        // The device and the service go on: enabled again, the client sees its next request.
        client.Reset();
        client.Device.RemoteEnable(KcovMode.TracePc, 1 << 12, [], client.Handle);
        using (var again = await _http.SendAsync(client.Post(_service.BaseAddress, "work", [7])))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Empty(client.WaitIdle());
        Assert.Equal(Expected([7]).Order(), client.Pcs().Order());
    }

    [Fact]
    public async Task DisconnectingMidRequestDropsTheLateCoverageAndFreesTheAreaWhenTheRequestEnds()
    {
        var client = CoverageClient.Common(_service.Socket);
        var area = client.Area;
        string shared = area.SharedName;
        var pending = _http.SendAsync(client.Post(_service.BaseAddress, "slow", []));
        await _service.SlowEntered.Task;
        await Until(() => client.Pcs().Length > 0);
        int done = _service.RequestsDone;
        client.Device.Dispose(); // close(2); the section still holds the device
        await Until(() => _service.Connections() == 0);
        _service.Gate.SetResult();
        using (var response = await pending)
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Until(() => _service.RequestsDone > done);

        Assert.Equal([TestService.SlowBefore], client.Pcs());
        // The last reference (the section's) went with the request: the area's name no longer opens it.
        Assert.ThrowsAny<Exception>(() => KcovArea.OpenShared(shared).Dispose());
        area.Dispose();
    }

    /// <summary>Polls until <paramref name="condition"/> holds; the limit only guards a wedged test.</summary>
    private static async Task Until(Func<bool> condition)
    {
        var guard = Task.Delay(TimeSpan.FromMinutes(1));
        while (!condition())
        {
            Assert.False(guard.IsCompleted, "the condition never came true");
            await Task.Delay(5);
        }
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _service.DisposeAsync();
        _dir.Dispose();
    }
}
