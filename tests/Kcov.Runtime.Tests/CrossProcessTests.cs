namespace Kcov.Tests;

/// <summary>The area is shared memory: another process maps it by name, reads and resets it.</summary>
public class CrossProcessTests
{
    [Fact]
    public void ChildMapsTheAreaByNameReadsTheEntriesAndResetsTheCount() => Threads.RunOnFreshThread(() =>
    {
        using var device = KcovDevice.OpenEnabled(64, KcovMode.TracePc, out var area);
        using (area)
        {
            area.Words[0] = 0;
            Trace.Pc(0xfeed_0001);
            Trace.Pc(0xfeed_0002);
            Trace.Pc(0xfeed_0003);

            var (exit, stdout, stderr) = ChildProcess.Run("child-read", area.SharedName);

            Assert.True(exit == 0, stderr);
            Assert.Equal(["3", "0xfeed0001", "0xfeed0002", "0xfeed0003"],
                stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            // The child's reset is visible here, and tracing starts over.
            Assert.Equal(0UL, area.Words[0]);
            Trace.Pc(0xfeed_0004);
            Assert.Equal([1UL, 0xfeed_0004], area.Words[..2].ToArray());
            device.Disable();
        }
    });

    [Fact]
    public void TheAreaFileIsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
            return; // no Unix modes; the assertion is about debugfs's 0600 on Unix
        using var device = KcovDevice.Open();
        device.InitTrace(4);
        using var area = device.Map();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(area.SharedName));
    }

    [Fact]
    public void OpeningAnAreaThatDoesNotExistSaysSo()
    {
        var e = Assert.Throws<FileNotFoundException>(() => KcovArea.OpenShared("/dev/shm/kcov-no-such-area"));
        Assert.Contains("device was closed", e.Message);
    }
}
