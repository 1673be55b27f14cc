using Kcov.Fuzzing.Ipc;
using Kcov.Instrumentation;

namespace Kcov.Fuzzing.Tests;

/// <summary>
/// Our fuzzer on our own parsers of untrusted bytes (tests/Kcov.Fuzzing.TestHarness/SelfFuzzTargets.cs):
/// the socket message decoder, the control block as an executor opens it, the PC map loader, the
/// dictionary parser, struct kcov_remote_arg, and the instrumenter's front end. Kcov.Coverage,
/// Kcov.Instrumentation and the decoders of Kcov.Fuzzing are instrumented (Kcov.Runtime cannot be:
/// kcov_remote_arg's parser is fuzzed without coverage). Seeded with valid inputs; bounded in
/// executions (longer runs: docs in the issue-12 note). What must hold: no crash, no hang, any
/// refusal only with the exception its contract documents.
/// </summary>
public class SelfFuzzTests
{
    private static readonly Lazy<string> s_app = new(Build);

    [Theory]
    [InlineData("self-message", 3000)]
    [InlineData("self-block", 3000)]
    [InlineData("self-remotearg", 3000)]
    [InlineData("self-dict", 1500)]
    [InlineData("self-pcmap", 1000)]
    [InlineData("self-assembly", 40)]
    public void OurParsersSurviveOurFuzzer(string target, int runs)
    {
        using var dir = new ScratchDirectory();
        WriteSeeds(target, dir["seeds"]);
        var (exit, _, stderr) = HarnessProcess.Run(dir.Path, Path.Combine(s_app.Value, "Kcov.Fuzzing.TestHarness.dll"),
            [target, $"-runs={runs}", "-seed=1", "-timeout=30", "-artifact_prefix=art/", "corpus", "seeds"]);

        Assert.True(exit == 0, stderr);
        Assert.Matches($@"#{runs}\tDONE ", stderr);
        Assert.False(Directory.Exists(dir["art"]), stderr);
    }

    private static void WriteSeeds(string target, string directory)
    {
        Directory.CreateDirectory(directory);
        void Seed(string name, byte[] bytes) => File.WriteAllBytes(Path.Combine(directory, name), bytes);
        switch (target)
        {
            case "self-message":
                Seed("hello", Encode(new Message { Kind = MessageKind.Hello, Numbers = [0, 3] }));
                Seed("new", Encode(new Message { Kind = MessageKind.NewInput, Input = "abc"u8.ToArray(), Text = "NEW", Detail = "ChangeByte-", Stats = new FuzzStats(10, 2, 3, 1, 3, 0, 8) }));
                Seed("crash", Encode(new Message { Kind = MessageKind.Crash, Input = [1, 2], Text = "==ERROR", Detail = "sig", Numbers = [0, 7] }));
                Seed("merge", Encode(new Message { Kind = MessageKind.MergeFeatures, Numbers = [4], Features = [1, 2, 3] }));
                break;
            case "self-block":
                using (var block = ControlBlock.Create(2, 32, 100))
                    Seed("block", File.ReadAllBytes(block.Path));
                break;
            case "self-remotearg":
                // struct kcov_remote_arg: trace_mode, area_size, num_handles u32; pad u32; common_handle u64; handles u64[].
                Seed("one-handle", [.. BitConverter.GetBytes(0u), .. BitConverter.GetBytes(64u), .. BitConverter.GetBytes(1u), .. BitConverter.GetBytes(0u),
                    .. BitConverter.GetBytes(0x0000_0000_0000_0042UL), .. BitConverter.GetBytes(0x0100_0000_0000_0001UL)]);
                break;
            case "self-dict":
                Seed("dict", "# tokens\nkw1=\"GET\"\n\"\\x41\\x42\"\nquote=\"a\\\"b\\\\c\"\n\n"u8.ToArray());
                break;
            case "self-pcmap":
                Seed("map", File.ReadAllBytes(Path.Combine(s_app.Value, "Kcov.Fuzzing.kcovmap")));
                break;
            case "self-assembly":
                Seed("assembly", File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Kcov.Samples.Targets.dll")));
                break;
        }
    }

    private static byte[] Encode(Message message)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
            message.Write(w);
        return buffer.ToArray();
    }

    /// <summary>A copy of the test output with our parsers instrumented, made once per test run.</summary>
    private static string Build()
    {
        string source = AppContext.BaseDirectory;
        string app = Directory.CreateTempSubdirectory("kcov-selffuzz-app-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(app, recursive: true); } catch (IOException) { }
        };
        foreach (var file in Directory.EnumerateFiles(source))
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        var all = new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp };
        AssemblyInstrumenter.Instrument(Path.Combine(source, "Kcov.Coverage.dll"), app, all);
        AssemblyInstrumenter.Instrument(Path.Combine(source, "Kcov.Instrumentation.dll"), app, all);
        // Only the decoders: the fuzzer's own loop runs in the same process and would only add noise.
        AssemblyInstrumenter.Instrument(Path.Combine(source, "Kcov.Fuzzing.dll"), app,
            new InstrumentationOptions { Trace = all.Trace, Include = ["Kcov.Fuzzing.Ipc.*", "Kcov.Fuzzing.Mutation.TokenDictionary*"] });
        return app;
    }
}
