using Kcov.Fuzzing.Crashes;
using Kcov.Fuzzing.Ipc;

namespace Kcov.Fuzzing.Executor;

/// <summary>The executor's side of the reports: messages to the supervisor (Supervisor/FuzzCampaign.cs reads them).</summary>
internal sealed class ChannelReporter(Channel channel) : IFuzzReporter
{
    public void NewInput(byte[] input, string reason, string mutations, FuzzStats stats, IReadOnlyList<byte[]> dropped) =>
        channel.Send(new Message { Kind = MessageKind.NewInput, Input = input, Text = reason, Detail = mutations, Stats = stats, Inputs = [.. dropped] });

    public void Crash(CrashReport report, byte[] input, long execs) => channel.Send(CrashMessage(report, input, execs));

    /// <summary>A finding as the supervisor receives it, from any mode.</summary>
    public static Message CrashMessage(CrashReport report, byte[] input, long execs) => new()
    {
        Kind = MessageKind.Crash,
        Input = input,
        Text = report.Render(input),
        Detail = report.DedupKey,
        Numbers = [(long)report.Kind, execs],
    };

    public void Stats(FuzzStats stats) => channel.Send(new Message { Kind = MessageKind.Stats, Stats = stats });

    public void Pulse(FuzzStats stats) => channel.Send(new Message { Kind = MessageKind.Stats, Stats = stats, Text = "pulse" });

    public void Inited(FuzzStats stats) => channel.Send(new Message { Kind = MessageKind.Inited, Stats = stats });

    public void HintsBegin(byte[] input) => channel.Send(new Message { Kind = MessageKind.HintsBegin, Text = Corpus.CorpusDirectory.Sha1(input) });

    public void Compared(List<byte[]> values) => channel.Send(new Message { Kind = MessageKind.Compared, Tokens = values });
}
