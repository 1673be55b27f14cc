using System.Diagnostics;

namespace Kcov.Tests;

/// <summary>
/// The area is shared memory that nobody has to remove: however the process that made it ends,
/// nothing is left in /dev/shm, and a process that mapped it in time still reads the coverage
/// (the crash-read path of `kcov run` and of the fuzzer's supervisor). Each child runs with a
/// /dev/shm of its own (<see cref="PrivateShm"/>), so the check sees only what it left.
/// </summary>
public class SharedMemoryLifetimeTests
{
    [Theory]
    [InlineData("exit")]
    [InlineData("throw")]
    [InlineData("overflow")]
    [InlineData("kill")]
    public async Task NothingIsLeftInDevShmHoweverTheProcessEndsAndAMappedReaderKeepsTheCoverage(string how)
    {
        var inner = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        inner.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        inner.ArgumentList.Add("child-area");
        inner.ArgumentList.Add(how);
        using var child = Process.Start(PrivateShm.Wrap(inner))!;
        var stderr = child.StandardError.ReadToEndAsync();
        string name = child.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"the child printed no area name: {await stderr}");

        Assert.Matches(@"^/proc/\d+/fd/\d+$", name);
        using var area = KcovArea.OpenShared(name);
        if (how == "kill")
            Process.GetProcessById(int.Parse(name.Split('/')[2])).Kill();
        else
            child.StandardInput.WriteLine("end");
        string rest = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();
        await stderr;

        Assert.Empty(PrivateShm.Left(rest));
        Assert.Equal([2UL, 0xa1, 0xa2], area.Words[..3].ToArray());
        Assert.True(how == "exit" ? child.ExitCode == 0 : child.ExitCode != 0, $"exit code {child.ExitCode}");
    }

    [Fact]
    public void TheAreaIsAMemfdNamedThroughProc()
    {
        using var device = KcovDevice.Open();
        device.InitTrace(8);
        using var area = device.Map();
        Assert.Equal($"/proc/{Environment.ProcessId}/fd/", area.SharedName[..area.SharedName.LastIndexOf('/')] + "/");
        Assert.StartsWith($"/memfd:kcov-area-{Environment.ProcessId}-", SharedNames.Target(area.SharedName));
    }

    [Fact]
    public void ANameThatReachesAnythingButAnAreaIsRefusedAndTheFileLeftAlone()
    {
        // What a stale /proc name of a freed area can reach: whatever file got its number next.
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, new byte[64]);
            using var other = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            string name = $"/proc/{Environment.ProcessId}/fd/{other.SafeFileHandle.DangerousGetHandle()}";

            var e = Assert.Throws<InvalidDataException>(() => KcovArea.OpenShared(name));
            Assert.Contains("is not a kcov area", e.Message);
            Assert.Equal(new byte[64], File.ReadAllBytes(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
