using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Mutation;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Executor;

/// <summary>
/// The executor process: the harness started again by its supervisor with
/// <see cref="EnvironmentVariable"/> set. It owns the kcov device, runs inputs, and talks to the
/// supervisor (Supervisor/ExecutorPool.cs and the campaigns) over the channel and the control block.
/// </summary>
internal static class ExecutorMain
{
    /// <summary>"socket address|control block path|slot": set by the supervisor, marks the executor role.</summary>
    public const string EnvironmentVariable = "KCOV_FUZZ_EXECUTOR";

    public static int Run(FuzzerOptions options, FuzzTarget target, string spec)
    {
        // Ctrl-C in a terminal reaches the whole process group: the supervisor decides when we
        // stop (the control block's stop word), or an input would look like it crashed.
        Console.CancelKeyPress += (_, e) => e.Cancel = true;
        string[] parts = spec.Split('|');
        int slot = int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture);
        using var channel = Channel.Connect(parts[0]);
        using var block = ControlBlock.Open(parts[1]);
        using var runner = new TargetRunner(target, options.AreaWords, options.Unique > 0);
        channel.Send(new Message { Kind = MessageKind.Hello, Numbers = [slot, runner.AreaDescriptor] });
        var start = channel.Receive();
        if (start?.Kind != MessageKind.Start)
            return 3;
        var mode = (ExecutorMode)start.Numbers[0];
        // Shrinking keeps a crash's signature, which needs the exact throw site: trace-pc, not unique mode.
        if (mode == ExecutorMode.Minimize)
            runner.SetMode(KcovMode.TracePc, exactPcs: true);
        int seed = (int)start.Numbers[1];
        var gate = new ExecutionGate(block, slot, -1);
        var reporter = new ChannelReporter(channel);
        var tokens = options.DictionaryPath.Length > 0 ? TokenDictionary.Parse(options.DictionaryPath) : [];
        // block.MaxLen: read once at open, before the target ran, so the target cannot change it.
        var loop = new FuzzLoop(options, runner, gate, reporter, seed, block.MaxLen, tokens);
        // The campaign's state, kept by the supervisor across executor restarts.
        if (start.Numbers.Length > 4)
            loop.ResumeLengthLimit((int)start.Numbers[4]);
        foreach (var hang in start.Hangs)
            loop.AddKnownHang(hang);
        loop.AddCompared(start.Tokens);
        Kcov.TraceCalls.Enabled = options.UseCallHooks;

        // The supervisor's later messages; its death (EOF) ends this process: nobody would
        // save what it finds. `finished` tells that EOF apart from our own closing.
        bool finished = false;
        void Finish()
        {
            Volatile.Write(ref finished, true);
            channel.Send(new Message { Kind = MessageKind.Done, Stats = loop.Stats });
        }
        var parking = new HangParking(loop, runner, block, slot, channel, () =>
        {
            Finish();
            Environment.Exit(0);
        });
        var reader = new Thread(() =>
        {
            while (channel.Receive() is { } m)
                if (m.Kind == MessageKind.AddInput)
                    loop.Incoming.Enqueue(m.Input);
                else if (m.Kind == MessageKind.HangParent)
                    loop.IncomingHangParents.Enqueue((ulong)m.Numbers[0]);
                else if (m.Kind == MessageKind.Park && m.Numbers.Length > 0)
                    parking.Park(m.Numbers[0]);
            if (Volatile.Read(ref finished))
                return;
            // The supervisor died: nobody would save what we find. Nothing to clean up (memfds, an
            // abstract socket): the kernel frees them with the last process that holds them.
            Environment.Exit(3);
        }) { IsBackground = true, Name = "kcov-fuzz-channel" };

        reader.Start();
        switch (mode)
        {
            case ExecutorMode.Fuzz:
                for (int i = 0; i < start.Inputs.Count && i < start.Flags.Length; i++)
                    if ((start.Flags[i] & 2) != 0)
                        loop.AddHangParent(Mutation.CmpHints.Hash(start.Inputs[i]));
                if (loop.RunSeeds(start.Inputs, [.. start.Flags.Select(f => (f & 1) != 0)], bounded: start.Numbers.Length > 5 && start.Numbers[5] != 0)
                    && (start.Input.Length == 0 || loop.Execute(start.Input, InputOrigin.Mutation)))
                    loop.Fuzz();
                break;
            case ExecutorMode.Merge:
                RunMerge(runner, gate, channel, start, edges: options.Unique != 2);
                break;
            case ExecutorMode.Reproduce:
                RunReproduce(runner, gate, channel, start, (int)Math.Clamp(options.Runs, 1, int.MaxValue));
                break;
            case ExecutorMode.Minimize:
                new CrashMinimizer(runner, gate, new Random(seed)).Minimize(start.Input, start.Text,
                    (best, report) => channel.Send(Best(best, report, 0)));
                break;
            case ExecutorMode.Cleanse:
                new CrashMinimizer(runner, gate, new Random(seed)).Cleanse(start.Input, start.Text, (int)start.Numbers[3],
                    (best, report, next) => channel.Send(Best(best, report, next)));
                break;
        }
        Finish();
        return 0;
    }

    private static Message Best(byte[] input, Crashes.CrashReport report, int next) => new()
    {
        Kind = MessageKind.MinimizeBest, Input = input, Text = report.Render(input), Detail = report.DedupKey, Numbers = [next],
    };

    /// <summary>
    /// -merge=1: features of each input from the start index on, one message per input. A crashing
    /// input brings no signal, and is reported as a finding.
    /// </summary>
    private static void RunMerge(TargetRunner runner, ExecutionGate gate, Channel channel, Message start, bool edges)
    {
        var signal = new Feedback.Signal();
        for (int i = (int)start.Numbers[3]; i < start.Inputs.Count; i++)
        {
            if (!gate.TryBegin(start.Inputs[i], traceOffset: runner.PrepareRun()))
                break;
            var error = runner.Run(start.Inputs[i]);
            uint[] features = signal.Collect(runner.Area, edges).ToArray();
            gate.End();
            if (error is not null)
                channel.Send(ChannelReporter.CrashMessage(Crashes.CrashReport.FromException(error, runner.ThrowSite), start.Inputs[i], gate.TotalExecs));
            channel.Send(new Message { Kind = MessageKind.MergeFeatures, Numbers = [i], Features = error is null ? features : [] });
        }
    }

    /// <summary>Input files: each one <paramref name="repeats"/> times, from the start index on, until the first crash.</summary>
    private static void RunReproduce(TargetRunner runner, ExecutionGate gate, Channel channel, Message start, int repeats)
    {
        for (int i = (int)start.Numbers[3]; i < start.Inputs.Count; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int r = 0; r < repeats; r++)
            {
                if (!gate.TryBegin(start.Inputs[i]))
                    return;
                var error = runner.Run(start.Inputs[i]);
                gate.End();
                if (error is not null)
                {
                    channel.Send(ChannelReporter.CrashMessage(Crashes.CrashReport.FromException(error, runner.ThrowSite), start.Inputs[i], gate.TotalExecs));
                    return;
                }
            }
            channel.Send(new Message { Kind = MessageKind.InputDone, Numbers = [i, clock.ElapsedMilliseconds] });
        }
    }
}
