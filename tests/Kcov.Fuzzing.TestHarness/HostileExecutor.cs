using System.IO.MemoryMappedFiles;
using System.Net.Sockets;

namespace Kcov.Fuzzing.TestHarness;

/// <summary>
/// An executor double that writes garbage where the supervisor reads, as a target that corrupts
/// its process's memory (or a harness that does not speak the protocol) would. Started by the
/// supervisor in place of a real executor (the harness's "hostile" mode: same command line, with
/// KCOV_FUZZ_EXECUTOR set); <see cref="ModeVariable"/> says how to misbehave:
/// <c>mode:seed:victim</c>, where victim is a file the supervisor must never touch, which the
/// double names in every way it can (as an area path in the hello's text, and through an open
/// descriptor of its own offered as its kcov area). The wire format is written here by hand
/// from Ipc/Message.cs's layout, not with it: the supervisor must survive any bytes.
/// </summary>
public static class HostileExecutor
{
    public const string ModeVariable = "KCOV_TEST_HOSTILE";

    public static int Run(string spec, string mode)
    {
        string[] parts = mode.Split(':', 3);
        var random = new Random(int.Parse(parts[1]));
        string victim = parts[2];
        string[] executor = spec.Split('|');
        int slot = int.Parse(executor[2]);
        using var victimFile = new FileStream(victim, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(executor[0].StartsWith('@') ? "\0" + executor[0][1..] : executor[0]));
        using var stream = new NetworkStream(socket);
        switch (parts[0])
        {
            case "socket":
                // Frames of random length and random bytes, then raw random bytes.
                for (int i = 0; i < 8; i++)
                {
                    int length = random.Next(4) == 0 ? random.Next() : random.Next(0, 64);
                    var frame = new byte[4 + Math.Min(length, 256)];
                    random.NextBytes(frame);
                    BitConverter.TryWriteBytes(frame, length);
                    stream.Write(frame);
                }
                var raw = new byte[4096];
                random.NextBytes(raw);
                stream.Write(raw);
                break;
            case "hello":
                // A well-formed hello whose area is the victim, by path and by descriptor.
                stream.Write(Hello(slot, victimFile.SafeFileHandle.DangerousGetHandle(), victim));
                break;
            case "block":
            {
                // A real area (kept until the process ends), a well-formed hello, then random bytes all over the control block.
                var device = KcovDevice.Open();
                device.InitTrace(AreaWords(Environment.GetCommandLineArgs()));
                var area = device.Map();
                stream.Write(Hello(slot, long.Parse(area.SharedName[(area.SharedName.LastIndexOf('/') + 1)..]), victim));
                using var block = MemoryMappedFile.CreateFromFile(executor[1], FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
                using var view = block.CreateViewAccessor();
                var junk = new byte[view.Capacity];
                random.NextBytes(junk);
                view.WriteArray(0, junk, 0, junk.Length);
                break;
            }
            default:
                throw new ArgumentException($"unknown hostile mode '{parts[0]}'");
        }
        stream.Flush();
        // Stay until the supervisor kills us (or closes the socket).
        try { socket.Receive(new byte[1 << 16]); } catch (SocketException) { }
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>-kcov_area_words=N from the command line, or the fuzzer's default.</summary>
    private static int AreaWords(string[] args) =>
        args.FirstOrDefault(a => a.StartsWith("-kcov_area_words=", StringComparison.Ordinal)) is { } flag
            ? int.Parse(flag["-kcov_area_words=".Length..]) : 1 << 20;

    /// <summary>Ipc/Message.cs's Hello: kind 1, numbers [slot, area fd], text, then empty fields (detail, input, inputs, features, tokens, flags, hangs) and zero statistics.</summary>
    private static byte[] Hello(int slot, long areaFd, string text)
    {
        using var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload))
        {
            w.Write((byte)1);
            w.Write(2);
            w.Write((long)slot);
            w.Write(areaFd);
            w.Write(text);
            w.Write("");
            w.Write(0); // input
            w.Write(0); // inputs
            w.Write(0); // features
            w.Write(0); // tokens
            w.Write(0); // flags
            w.Write(0); // hangs
            w.Write(0L); w.Write(0); w.Write(0); w.Write(0); w.Write(0L); w.Write(0L); w.Write(0); w.Write(0);
        }
        byte[] body = payload.ToArray();
        return [.. BitConverter.GetBytes(body.Length), .. body];
    }
}
