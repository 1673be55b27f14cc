using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Kcov.Tests;

/// <summary>
/// A task's thread identity (its stack range, <see cref="ThreadIdentity"/>) lives exactly as long
/// as its thread: a thread that exits while still bound leaves a range that matches no address, so
/// a later thread that gets the dead thread's stack (glibc caches stacks) is not taken for it.
/// </summary>
public unsafe class ThreadIdentityTests
{
    // The dead thread's stack must go to the thread this test starts next, not to one of the threads
    // other tests start meanwhile (xunit runs test classes in parallel). glibc hands a new thread the
    // smallest cached stack at least as large as it asks for, and never one more than 4 times larger:
    // threads of the default size (1.5 MiB) never take a stack of this size, and no other test asks
    // for it. (With default-size stacks the reuse below failed once in CI: another thread took it.)
    private const int UnusualStackSize = 7 * 1024 * 1024 + 64 * 1024;

    [Fact]
    public void AThreadThatExitsWithoutDisablingLeavesAnIdentityThatMatchesNoAddress()
    {
        KcovDevice? device = null;
        KcovArea? area = null;
        KcovState* state = null;
        nuint low = 0, size = 0;
        bool ownFrameMatched = false;
        var owner = new Thread(() =>
        {
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

            // New threads of the same stack size until one runs on the dead thread's stack (glibc
            // caches it once the native thread is gone, a moment after the destructors ran): it is
            // not taken for the dead thread, and its blocks are not recorded in the dead thread's area.
            bool reused = false;
            for (int attempt = 0; attempt < 200 && !reused; attempt++)
            {
                Threads.RunOnFreshThread(() =>
                {
                    byte frame = 0;
                    if ((nuint)Unsafe.AsPointer(ref frame) - low >= size)
                        return;
                    reused = true;
                    Assert.False(ThreadIdentity.IsCurrentThread(state, ref frame));
                    Trace.Pc(ref frame, 0x2, uint.MaxValue);
                }, UnusualStackSize);
            }
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
