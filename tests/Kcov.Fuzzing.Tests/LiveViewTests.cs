using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Supervisor;
using Spectre.Console;

namespace Kcov.Fuzzing.Tests;

public class LiveViewTests
{
    [Fact]
    public void ShowsTheStatusNumbersAndDefersReportsUntilClosed()
    {
        var output = new StringWriter();
        using (var view = new LiveView(output, "campaign"))
        {
            view.Update(12345, 678, new FuzzStats(12345, 42, 99, 7, 300, 2, 64), 55, TimeSpan.FromSeconds(61));
            view.Finding("crash: Boom", "==ERROR: the full report\n");
            var text = new StringWriter();
            AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(text) }).Write(view.Render());
            string shown = text.ToString();
            Assert.Contains("12,345", shown);
            Assert.Contains("678", shown);
            Assert.Contains("7 inputs, 300 bytes", shown);
            Assert.Contains("crash: Boom", shown);
            Assert.DoesNotContain("the full report", output.ToString());
        }
        Assert.Contains("==ERROR: the full report", output.ToString());
    }
}
