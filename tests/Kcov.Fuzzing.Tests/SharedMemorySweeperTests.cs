using Kcov.Fuzzing.Supervisor;

namespace Kcov.Fuzzing.Tests;

public class SharedMemorySweeperTests
{
    [Fact]
    public void RemovesOnlyFilesOfProcessesThatAreGone()
    {
        using var dir = new ScratchDirectory();
        // A pid above the kernel's maximum is never alive.
        string dead = dir.Write("kcov-99999999-1-abcd", "");
        string deadBlock = dir.Write("kcov-fuzz-99999999-0123", "");
        string alive = dir.Write($"kcov-{Environment.ProcessId}-1-abcd", "");
        string other = dir.Write("kcov-run-notes", "");
        Assert.Equal(2, SharedMemorySweeper.Sweep(dir.Path, "kcov-*"));
        Assert.False(File.Exists(dead));
        Assert.False(File.Exists(deadBlock));
        Assert.True(File.Exists(alive));
        Assert.True(File.Exists(other));
    }
}
