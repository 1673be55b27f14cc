namespace Kcov.Tests;

/// <summary>The trace path never allocates: bound, unbound, full area, both modes.</summary>
public class NoAllocationTests
{
    private static readonly ulong[] Cases = [3, 32, 1, 2, 3];

    private static void CallEveryEntryPoint(int times)
    {
        for (int i = 0; i < times; i++)
        {
            ulong pc = (ulong)i;
            Trace.Pc(pc);
            Trace.Cmp1(1, 2, pc);
            Trace.Cmp2(1, 2, pc);
            Trace.Cmp4(1, 2, pc);
            Trace.Cmp8(1, 2, pc);
            Trace.ConstCmp1(1, 2, pc);
            Trace.ConstCmp2(1, 2, pc);
            Trace.ConstCmp4(1, 2, pc);
            Trace.ConstCmp8(1, 2, pc);
            Trace.Switch(pc, Cases, pc);
        }
    }

    private static long AllocatedBy(Action body)
    {
        body(); // warm up: JIT and tiering happen here, not in the measurement
        long before = GC.GetAllocatedBytesForCurrentThread();
        body();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Theory]
    [InlineData(KcovMode.TracePc, 1 << 20)] // room for everything
    [InlineData(KcovMode.TraceCmp, 1 << 20)]
    [InlineData(KcovMode.TracePc, 2)] // full almost at once
    [InlineData(KcovMode.TraceCmp, 5)]
    public void BoundThreadDoesNotAllocate(KcovMode mode, int words) => Threads.RunOnFreshThread(() =>
    {
        using var device = KcovDevice.OpenEnabled(words, mode, out var area);
        using (area)
        {
            long allocated = AllocatedBy(() =>
            {
                area.Words[0] = 0;
                CallEveryEntryPoint(10_000);
            });
            device.Disable();
            Assert.Equal(0, allocated);
            Assert.NotEqual(0UL, area.Words[0]); // it did record
        }
    });

    [Fact]
    public void UnboundThreadDoesNotAllocate() => Threads.RunOnFreshThread(() =>
    {
        Assert.Equal(0, AllocatedBy(() => CallEveryEntryPoint(10_000)));
    });
}
