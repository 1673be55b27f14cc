using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kcov.Tests;

/// <summary>
/// A task's thread identity (its stack range, <see cref="ThreadIdentity"/>) lives exactly as long
/// as its thread: a thread that exits while still bound leaves a range that matches no address, so
/// a later thread that gets the dead thread's stack (glibc caches stacks) is not taken for it.
/// </summary>
public unsafe class ThreadIdentityTests
{
    // A stack only the threads of this test ask for. glibc hands a new thread the smallest cached
    // stack at least as large as it asks for but never one more than 4 times larger, and keeps at
    // most 40 MiB of free stacks, freeing the oldest first. Threads ask for 8 MiB by default here
    // (`ulimit -s`): none takes a stack of this size, none in the cache is large enough for the first
    // thread (with 7 MiB it got a cached 8 MiB stack, which other tests' threads could then take: the
    // reuse below failed twice in CI), and the newest free stack is the last to be freed.
    private const int UnusualStackSize = 33 * 1024 * 1024 + 64 * 1024;

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    [Fact]
    public void AThreadThatExitsWithoutDisablingLeavesAnIdentityThatMatchesNoAddress()
    {
        KcovDevice? device = null;
        KcovArea? area = null;
        KcovState* state = null;
        nuint low = 0, size = 0;
        bool ownFrameMatched = false;
        int ownerTid = 0;
        var owner = new Thread(() =>
        {
            ownerTid = GetTid();
            device = KcovDevice.OpenEnabled(64, KcovMode.TracePc, out area);
            state = KcovTask.Current!.State;
            low = state->StackLow;
            size = state->StackSize;
            byte frame = 0;
            ownFrameMatched = ThreadIdentity.IsCurrentThread(state, ref frame);
            Trace.Pc(0x1);
            // Exits still enabled: no Disable, no Dispose.
        }, UnusualStackSize);
        owner.Start();
        owner.Join();
        try
        {
            Assert.True(ownFrameMatched);
            Assert.NotEqual((nuint)0, size);
            Assert.Equal([1UL, 0x1], area!.Words[..2].ToArray());

            // Join returns when the managed thread is done; libc runs the key destructors just after,
            // as the native thread exits. Nothing else can clear the size: the device is still bound.
            var wait = Stopwatch.StartNew();
            while (Volatile.Read(ref state->StackSize) != 0 && wait.Elapsed < TimeSpan.FromSeconds(30))
                Thread.Sleep(1);
            Assert.Equal((nuint)0, state->StackSize);
            Assert.False(ThreadIdentity.IsCurrentThread(state, ref *(byte*)low));
            Assert.False(ThreadIdentity.IsCurrentThread(state, ref *(byte*)(low + size / 2)));
            Assert.False(ThreadIdentity.IsCurrentThread(state, ref *(byte*)(low + size - 1)));

            // glibc hands a cached stack to a new thread only once the kernel has cleared the old
            // thread's tid, which it does as the thread exits, before the thread leaves /proc.
            while (Directory.Exists($"/proc/self/task/{ownerTid}") && wait.Elapsed < TimeSpan.FromSeconds(30))
                Thread.Sleep(1);
            Assert.False(Directory.Exists($"/proc/self/task/{ownerTid}"), "the dead thread is still in /proc");

            // New threads of the same stack size until one runs on the dead thread's stack: it is not
            // taken for the dead thread, and its blocks are not recorded in the dead thread's area.
            // The threads that did not get it stay alive until the end, so their stacks cannot go back
            // to the cache ahead of it.
            bool reused = false;
            using var release = new ManualResetEventSlim();
            var tried = new List<Thread>();
            Exception? failure = null;
            for (int attempt = 0; attempt < 50 && !Volatile.Read(ref reused); attempt++)
            {
                using var checkedFrame = new ManualResetEventSlim();
                var thread = new Thread(() =>
                {
                    byte frame = 0;
                    if ((nuint)Unsafe.AsPointer(ref frame) - low < size)
                    {
                        try
                        {
                            Assert.False(ThreadIdentity.IsCurrentThread(state, ref frame));
                            Trace.Pc(ref frame, 0x2, uint.MaxValue);
                        }
                        catch (Exception e)
                        {
                            failure = e;
                        }
                        Volatile.Write(ref reused, true);
                        checkedFrame.Set();
                        return;
                    }
                    checkedFrame.Set();
                    release.Wait();
                }, UnusualStackSize);
                thread.Start();
                checkedFrame.Wait();
                tried.Add(thread);
            }
            release.Set();
            foreach (var thread in tried)
                thread.Join();
            if (failure is not null)
                throw failure;
            Assert.True(reused, "no new thread ran on the dead thread's stack");
            Assert.Equal(1UL, area.Words[0]);
        }
        finally
        {
            area?.Dispose();
            device?.Dispose();
        }
    }
}
