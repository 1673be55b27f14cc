using Kcov.Coverage;
using Kcov.Fuzzing.Ipc;
using Kcov.Fuzzing.Mutation;
using Kcov.Fuzzing.Options;
using Kcov.Instrumentation;

namespace Kcov.Fuzzing.TestHarness;

/// <summary>
/// Our own parsers of untrusted bytes, as fuzz targets for our own fuzzer (tests/Kcov.Fuzzing.Tests/SelfFuzzTests.cs
/// runs them with Kcov.Coverage, Kcov.Instrumentation and the decoders of Kcov.Fuzzing instrumented). Each may
/// refuse its input only with the exception its contract documents; anything else, a hang, or a crash is a finding.
/// </summary>
public static class SelfFuzzTargets
{
    private static readonly string Scratch = Directory.CreateTempSubdirectory("kcov-selffuzz-").FullName;

    public static Action<ReadOnlySpan<byte>>? For(string name) => name switch
    {
        "self-message" => Message,
        "self-remotearg" => RemoteArg,
        "self-pcmap" => PcMapLoader,
        "self-dict" => Dictionary,
        "self-block" => ControlBlockHeader,
        "self-assembly" => AssemblyFrontEnd,
        _ => null,
    };

    /// <summary>The socket message decoder and the supervisor's shape check (Ipc/Message.cs): InvalidDataException only.</summary>
    private static void Message(ReadOnlySpan<byte> data)
    {
        try
        {
            Ipc.Message.Decode(data.ToArray()).ProblemFromExecutor(4096);
        }
        catch (InvalidDataException) { }
    }

    /// <summary>struct kcov_remote_arg (Kcov.Runtime's KcovRemoteArg): a negative errno, never an exception.</summary>
    private static void RemoteArg(ReadOnlySpan<byte> data) => KcovRemoteArg.TryRead(data, out _, out _);

    /// <summary>The PC map loader: InvalidDataException only.</summary>
    private static void PcMapLoader(ReadOnlySpan<byte> data)
    {
        try
        {
            PcMap.Load(data, "fuzzed.pcmap");
        }
        catch (InvalidDataException) { }
    }

    /// <summary>The -dict= parser: FuzzerUsageException (one line) only.</summary>
    private static void Dictionary(ReadOnlySpan<byte> data)
    {
        string path = Path.Combine(Scratch, "fuzzed.dict");
        File.WriteAllBytes(path, data.ToArray());
        try
        {
            TokenDictionary.Parse(path);
        }
        catch (FuzzerUsageException) { }
    }

    /// <summary>The control block as an executor opens it, and the supervisor's checks of it: InvalidDataException only.</summary>
    private static void ControlBlockHeader(ReadOnlySpan<byte> data)
    {
        string path = Path.Combine(Scratch, "fuzzed.block");
        File.WriteAllBytes(path, data.ToArray());
        try
        {
            using var block = ControlBlock.Open(path);
            block.CheckHeader();
            block.CheckSlot(0);
            block.ReadInput(0);
        }
        catch (InvalidDataException) { }
        catch (EndOfStreamException) { }
    }

    /// <summary>The instrumenter's front end (input check, Cecil's reader, the rewrite) on random and mutated assemblies: InstrumentationException only.</summary>
    private static void AssemblyFrontEnd(ReadOnlySpan<byte> data)
    {
        string path = Path.Combine(Scratch, "fuzzed.dll");
        File.WriteAllBytes(path, data.ToArray());
        try
        {
            AssemblyInstrumenter.InstrumentToMemory(path, new InstrumentationOptions { Trace = TraceModes.Pc | TraceModes.Cmp });
        }
        catch (InstrumentationException) { }
    }
}
