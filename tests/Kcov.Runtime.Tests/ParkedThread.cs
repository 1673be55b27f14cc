using System.Collections.Concurrent;

namespace Kcov.Tests;

/// <summary>A thread that stays alive and runs what it is given, one call at a time.</summary>
internal sealed class ParkedThread : IDisposable
{
    private readonly BlockingCollection<(Action Body, TaskCompletionSource Done)> _work = new();
    private readonly Thread _thread;

    public ParkedThread()
    {
        _thread = new Thread(() =>
        {
            foreach (var (body, done) in _work.GetConsumingEnumerable())
            {
                try { body(); done.SetResult(); }
                catch (Exception e) { done.SetException(e); }
            }
        }) { IsBackground = true };
        _thread.Start();
    }

    public Thread Thread => _thread;

    public void Run(Action body)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add((body, done));
        done.Task.GetAwaiter().GetResult();
    }

    /// <summary>Queues <paramref name="body"/> without waiting for it.</summary>
    public void Post(Action body) =>
        _work.Add((body, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));

    /// <summary>An awaitable whose continuation always runs on this thread: a guaranteed thread hop.</summary>
    public HopAwaitable Hop() => new(this);

    public readonly struct HopAwaitable(ParkedThread target) : System.Runtime.CompilerServices.INotifyCompletion
    {
        public HopAwaitable GetAwaiter() => this;
        public bool IsCompleted => false;
        public void OnCompleted(Action continuation) => target.Post(continuation);
        public void GetResult() { }
    }

    public T Run<T>(Func<T> body)
    {
        T result = default!;
        Run(() => { result = body(); });
        return result;
    }

    /// <summary>Ends the thread and waits for it.</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join();
    }
}
