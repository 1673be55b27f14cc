using System.Threading.Channels;
using Kcov.Control;
using Microsoft.Extensions.Logging;

namespace Kcov.AspNetCore;

/// <summary>
/// A work queue (<see cref="Channel{T}"/>) whose items keep the coverage of the client that caused
/// them: kcov's vhost-worker pattern. <see cref="EnqueueAsync"/> records the producer's common handle
/// (a request's, see <see cref="KcovRequestMiddleware"/>) with the item; <see cref="ConsumeAsync"/>
/// processes each item as a remote section of that handle, so the background work a request queued
/// lands in that client's area and in no other. Items without a handle are processed untraced.
/// <para>
/// A processing exception is logged, recorded for the client's wait (it is the kind of bug a
/// fuzzer is after: reachable only through the queue), and the consumer goes on with the next item.
/// </para>
/// </summary>
public sealed class KcovWorkQueue<T>
{
    private readonly Channel<(T Item, ulong Handle, RemoteWorkItem? Work)> _channel;
    private readonly ILogger _logger;

    /// <param name="capacity">Items waiting at most; <see cref="EnqueueAsync"/> waits for room beyond it.</param>
    /// <param name="logger">Hears processing failures.</param>
    public KcovWorkQueue(int capacity, ILogger<KcovWorkQueue<T>> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _channel = Channel.CreateBounded<(T, ulong, RemoteWorkItem?)>(new BoundedChannelOptions(capacity) { SingleReader = false });
        _logger = logger;
    }

    /// <summary>Items waiting now.</summary>
    public int Count => _channel.Reader.Count;

    /// <summary>Queues <paramref name="item"/> with the calling flow's common handle; waits while the queue is full.</summary>
    public async ValueTask EnqueueAsync(T item, CancellationToken cancellationToken = default)
    {
        ulong handle = Remote.CommonHandle;
        // Begun now, before the producer's response can reach its client: the client's wait
        // then covers the item until it has been processed.
        var work = RemoteWork.Begin(handle);
        try
        {
            await _channel.Writer.WriteAsync((item, handle, work), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            work?.End();
            throw;
        }
    }

    /// <summary>Queues <paramref name="item"/> if there is room; false when the queue is full or completed.</summary>
    public bool TryEnqueue(T item)
    {
        ulong handle = Remote.CommonHandle;
        var work = RemoteWork.Begin(handle);
        if (_channel.Writer.TryWrite((item, handle, work)))
            return true;
        work?.End();
        return false;
    }

    /// <summary>No more items will be queued; <see cref="ConsumeAsync"/> returns once the queue is empty.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>
    /// The consumer loop: processes items with <paramref name="process"/>, each in a remote section
    /// of its producer's common handle, until <paramref name="cancellationToken"/> is cancelled or
    /// the queue is completed and empty. Several consumers may run at once.
    /// </summary>
    public async Task ConsumeAsync(Func<T, CancellationToken, Task> process, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(process);
        await foreach (var (item, handle, work) in _channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            await ProcessAsync(item, handle, work, process, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One item. A method of its own, so that the common handle and the section it sets on the
    /// flow end with it (AsyncLocal changes are undone when an async method returns).
    /// </summary>
    private async Task ProcessAsync(T item, ulong handle, RemoteWorkItem? work, Func<T, CancellationToken, Task> process, CancellationToken cancellationToken)
    {
        Exception? fault = null;
        try
        {
            if (handle == 0)
            {
                await process(item, cancellationToken).ConfigureAwait(false);
                return;
            }
            // Work this item queues in turn belongs to the same client.
            Remote.InheritCommonHandle(handle);
            using (Remote.Section(handle))
                await process(item, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // the host is stopping
        }
        catch (Exception e)
        {
            fault = e;
            _logger.LogError(e, "kcov work queue: processing a {Item} failed; going on with the next item", typeof(T).Name);
        }
        finally
        {
            // After the section stopped: the item's coverage is in its client's area.
            work?.End(fault, $"queued work: {typeof(T).Name}");
        }
    }
}
