using FsCheck;
using FsCheck.Fluent;
using Kcov.Fuzzing.Mutation;

namespace Kcov.Fuzzing.Tests;

public class MutatorsTests
{
    private static readonly (string Name, Mutator Mutate)[] All =
        new MutationDispatcher(Context(new Random(0)), 1, crossOver: true).Names
            .Select(n => (n, (Mutator)Delegate.CreateDelegate(typeof(Mutator), typeof(Mutators).GetMethod(n)!)))
            .ToArray();

    private static MutationContext Context(Random random) =>
        new(random, ["KEYWORD"u8.ToArray(), "\x01\x02"u8.ToArray()], () => "OTHER-INPUT"u8.ToArray());

    [Fact]
    public void EveryMutatorStaysWithinMaxSizeAndTheBuffer() =>
        Prop.ForAll<byte[], int, byte>(StaysWithin).Check(Config.QuickThrowOnFailure.WithMaxTest(300).WithReplay(1, 3));

    private static bool StaysWithin(byte[] input, int seed, byte extra)
    {
        input ??= [];
        int maxSize = input.Length + extra % 16;
        foreach (var (_, mutate) in All)
        {
            var buffer = new byte[maxSize + 8];
            input.CopyTo(buffer, 0);
            buffer.AsSpan(maxSize).Fill(0xAA);
            int size = mutate(Context(new Random(seed)), buffer, input.Length, maxSize);
            if (size < 0 || size > maxSize || buffer.AsSpan(maxSize).ContainsAnyExcept((byte)0xAA))
                return false;
        }
        return true;
    }

    [Fact]
    public void EraseBytesReachesEveryOneByteErasure()
    {
        // libFuzzer's TestEraseBytes idea: with a fixed seed, all variants show up within a budget.
        byte[] input = [0, 1, 2, 3, 4, 5, 6, 7];
        var wanted = Enumerable.Range(0, input.Length).Select(i => Convert.ToHexString([.. input[..i], .. input[(i + 1)..]])).ToHashSet();
        var context = Context(new Random(42));
        for (int i = 0; i < 10_000 && wanted.Count > 0; i++)
        {
            var buffer = (byte[])input.Clone();
            int size = Mutators.EraseBytes(context, buffer, input.Length, input.Length);
            wanted.Remove(Convert.ToHexString(buffer, 0, size));
        }
        Assert.Empty(wanted);
    }

    [Fact]
    public void ChangeBinaryIntegerReachesPlusOneInBothByteOrders()
    {
        byte[] input = [0x10, 0x20, 0x30, 0x40];
        var context = Context(new Random(7));
        bool little = false, big = false;
        for (int i = 0; i < 50_000 && !(little && big); i++)
        {
            var buffer = (byte[])input.Clone();
            Mutators.ChangeBinaryInteger(context, buffer, 4, 4);
            little |= buffer.SequenceEqual(new byte[] { 0x11, 0x20, 0x30, 0x40 });
            big |= buffer.SequenceEqual(new byte[] { 0x10, 0x20, 0x30, 0x41 });
        }
        Assert.True(little && big);
    }

    [Fact]
    public void DictionaryTokensAreInserted()
    {
        var buffer = new byte[64];
        int size = Mutators.InsertDictToken(Context(new Random(3)), buffer, 0, 64);
        Assert.True(size is 7 or 2);
    }

    [Fact]
    public void CrossOverSplicesAnotherInput()
    {
        var context = Context(new Random(5));
        bool sawOther = false;
        for (int i = 0; i < 200 && !sawOther; i++)
        {
            var buffer = new byte[32];
            "abcd"u8.CopyTo(buffer);
            int size = Mutators.CrossOver(context, buffer, 4, 32);
            sawOther = System.Text.Encoding.ASCII.GetString(buffer, 0, size).Contains("INPUT");
        }
        Assert.True(sawOther);
    }

    [Fact]
    public void ASCIIIntegerIsChangedAsANumber()
    {
        var context = Context(new Random(11));
        var seen = new HashSet<string>();
        for (int i = 0; i < 500; i++)
        {
            var buffer = new byte[32];
            "n=41;"u8.CopyTo(buffer);
            int size = Mutators.ChangeASCIIInteger(context, buffer, 5, 32);
            seen.Add(System.Text.Encoding.ASCII.GetString(buffer, 0, size));
        }
        Assert.Contains("n=42;", seen);
        Assert.Contains("n=40;", seen);
        Assert.Contains("n=82;", seen);
    }

    [Fact]
    public void DispatcherNamesTheChainItApplied()
    {
        var dispatcher = new MutationDispatcher(Context(new Random(1)), 5, crossOver: true);
        var buffer = new byte[64];
        "hello"u8.CopyTo(buffer);
        dispatcher.Mutate(buffer, 5, 64);
        string sequence = dispatcher.LastSequence();
        Assert.EndsWith("-", sequence);
        Assert.All(sequence.TrimEnd('-').Split('-'), name => Assert.Contains(name, dispatcher.Names));
    }
}
