using System.Buffers.Binary;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;
using Kcov.Fuzzing.TestHarness;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// The async target form, covered through a remote section under the common handle: its blocks
/// run on thread-pool threads after awaits, never on the thread that owns the device.
/// </summary>
public class AsyncTargetTests
{
    private static ulong[] Trace(TargetRunner runner, byte[] input, out Exception? error)
    {
        error = runner.Run(input);
        var area = runner.Area;
        return area.Slice(1, (int)area[0]).ToArray();
    }

    [Fact]
    public void CoverageAfterAwaitsAndInChildTasksReachesTheArea()
    {
        using var runner = new TargetRunner(FuzzTarget.From(AsyncMagicHandTarget.Run), 1 << 12);
        var pcs = Trace(runner, [1, 2], out var error);
        Assert.Null(error);
        Assert.Equal(new ulong[] { 0x400, 0x401, 0x405 }, pcs);

        var magic = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(magic, 0xCAFEF00D);
        pcs = Trace(runner, magic, out error);
        Assert.IsType<InvalidDataException>(error);
        Assert.Equal(new ulong[] { 0x400, 0x401, 0x403, 0x404, 0x406 }, pcs.Order());
    }

    [Fact]
    public void ComparisonsOfTheAsyncFlowReachTheAreaInTraceCmpMode()
    {
        using var runner = new TargetRunner(FuzzTarget.From(AsyncMagicHandTarget.Run), 1 << 12);
        runner.SetMode(KcovMode.TraceCmp);
        runner.Run("ABCD"u8.ToArray());
        var area = runner.Area;
        Assert.Equal(1UL, area[0]);
        Assert.Equal(0xCAFEF00DUL, area[2]);
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian("ABCD"u8), (uint)area[3]);
        runner.SetMode(KcovMode.TracePc);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AsyncMagicIsFoundWithHintsAndNotWithout(int seed)
    {
        foreach (bool useCmp in new[] { true, false })
        {
            var reporter = new RecordingReporter();
            using var runner = new TargetRunner(FuzzTarget.From(AsyncMagicHandTarget.Run), 1 << 12);
            var loop = new FuzzLoop(new FuzzerOptions { UseCmp = useCmp }, runner, new ExecutionGate(null, 0, 1000), reporter, seed, 64, []);
            if (loop.RunSeeds([]))
                loop.Fuzz();
            if (useCmp)
                Assert.Contains("AsyncMagicHandTarget", Assert.Single(reporter.Crashes).Report.Signature);
            else
                Assert.Empty(reporter.Crashes);
        }
    }
}
