using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Tests;

/// <summary>The control block as the supervisor must read it: its own geometry, every shared word checked.</summary>
public class ControlBlockTests
{
    [Fact]
    public void GarbageInTheHeaderOrASlotIsNamedAndTheSupervisorsGeometryStands()
    {
        using var block = ControlBlock.Create(2, 32, 100);
        Assert.Null(block.CheckHeader());
        Assert.Null(block.CheckSlot(1));
        using var executor = ControlBlock.Open(block.Path);
        using (var raw = new FileStream(block.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            // What a scribbling target does: max_len to 1 GiB, slot 1's length and state to nonsense.
            raw.Position = 32;
            raw.Write(BitConverter.GetBytes(1 << 30));
            raw.Position = 64 + 128 + 8;
            raw.Write(BitConverter.GetBytes(7));
            raw.Write(BitConverter.GetBytes(-5));
        }
        Assert.Contains("header says 2 slots of 1073741824 bytes", block.CheckHeader());
        Assert.Equal("slot 1 has state 0x00000007", block.CheckSlot(1));
        Assert.Equal(32, block.MaxLen);
        Assert.Empty(block.ReadInput(1)); // the length is clamped to what the supervisor made
        Assert.Throws<ArgumentOutOfRangeException>(() => block.ReadInput(2));

        block.WriteHeader();
        Assert.Null(block.CheckHeader());
    }

    [Fact]
    public void TheExecutionCountIsBelievedOnlyAsFarAsItCanBeTrue()
    {
        using var block = ControlBlock.Create(1, 8, 100);
        using var executor = ControlBlock.Open(block.Path);
        Assert.True(executor.TryClaimExecution());
        Assert.Equal(1, block.TotalExecs);
        using (var raw = new FileStream(block.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            raw.Position = 8;
            raw.Write(BitConverter.GetBytes(long.MaxValue));
            raw.Flush();
            Assert.Equal(100, block.TotalExecs); // not past -runs
            raw.Position = 8;
            raw.Write(BitConverter.GetBytes(-3L));
        }
        Assert.Equal(100, block.TotalExecs); // never back
        Assert.Equal("the control block counts -3 executions", block.CheckHeader());
    }

    /// <summary>Found by self-fuzzing (SelfFuzzTests, self-block): a file longer than its header says failed to map with an exception no caller expects.</summary>
    [Fact]
    public void AFileLongerThanItsHeaderSaysOpens()
    {
        using var block = ControlBlock.Create(1, 8, 100);
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [.. File.ReadAllBytes(block.Path), .. new byte[4096]]);
            using var opened = ControlBlock.Open(path);
            Assert.Equal(8, opened.MaxLen);
            Assert.Null(opened.CheckHeader());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
