using Kcov.Coverage;

namespace Kcov.Cli.Tests;

/// <summary>
/// samples/RemoteExample (kcov.rst's remote coverage example in C#), instrumented and run for real:
/// the PCs it prints come from the USB hub's event handling (global handle) and the workers its
/// flow spawned (common handle, across an await), and from none of the collecting flow's own code.
/// </summary>
public sealed class RemoteExampleTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public void CollectsTheHubAndTheWorkersAndNothingElse()
    {
        string output = _dir.Combine("out");
        var instrument = Kcov.Run("instrument", Path.Combine(AppContext.BaseDirectory, "RemoteExample.dll"), "-o", output);
        Assert.True(instrument.ExitCode == 0, instrument.Error);

        var run = Kcov.RunProgram(Path.Combine(output, "RemoteExample.dll"));
        Assert.True(run.ExitCode == 0, run.Error);
        var pcs = PcList.Read(new StringReader(run.Out), "RemoteExample").ToList();
        var symbolizer = new Symbolizer([PcMap.Load(Path.Combine(output, "RemoteExample.kcovmap"))]);
        var functions = pcs.Select(pc => symbolizer.Symbolize(pc).Function).ToHashSet();

        Assert.Contains("RemoteExample.UsbHub.HubEvent", functions);
        Assert.Contains("RemoteExample.VhostWorker.Process", functions);
        Assert.Contains("RemoteExample.VhostWorker.Complete", functions); // after the await, on another thread
        // Members of the two types, compiler-generated ones (the worker's async lambda) included.
        Assert.All(functions, f => Assert.True(
            f.StartsWith("RemoteExample.UsbHub", StringComparison.Ordinal) || f.StartsWith("RemoteExample.VhostWorker", StringComparison.Ordinal),
            $"{f} ran outside a remote section but was collected"));
        Assert.DoesNotContain(functions, f => f.Contains("Main", StringComparison.Ordinal) || f.Contains("Plug", StringComparison.Ordinal));
    }

    public void Dispose() => _dir.Dispose();
}
