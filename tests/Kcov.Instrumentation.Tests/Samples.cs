namespace Kcov.Instrumentation.Tests;

/// <summary>The C# the golden-IL and run tests instrument: one method per construct of the issue.</summary>
internal static class Samples
{
    public const string Source = """
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;

        public static class Constructs
        {
            public static int Counter;
            public static volatile int Volatile;

            public static int Branch(int x)
            {
                if (x > 10)
                    return 1;
                return 2;
            }

            public static bool Equal(int a, int b) => a == b;

            public static bool LessUnsigned(uint a, uint b) => a < b;

            public static bool LongConst(long a) => a == 5L;

            public static bool NativeGreater(nint a, nint b) => a > b;

            public static bool Floats(double a, double b) => a < b;

            public static bool IsNull(object a) => a == null;

            public static bool Truth(bool b)
            {
                if (b)
                    return true;
                return false;
            }

            public static int Switch(int x)
            {
                switch (x)
                {
                    case 0: return 10;
                    case 1: return 11;
                    case 2: return 12;
                    case 3: return 13;
                    default: return -1;
                }
            }

            public static int Loop(int n)
            {
                int sum = 0;
                for (int i = 0; i < n; i++)
                    sum += i;
                return sum;
            }

            public static int TryCatchFinally(string s)
            {
                try
                {
                    return int.Parse(s);
                }
                catch (FormatException)
                {
                    return -1;
                }
                finally
                {
                    Counter++;
                }
            }

            public static int Filter(int x)
            {
                try
                {
                    throw new InvalidOperationException();
                }
                catch (Exception) when (x > 0)
                {
                    return 1;
                }
                catch
                {
                    return 2;
                }
            }

            public static bool VolatileRead() => Volatile == 3;

            public static string ReadonlyConstrained<T>(T[] items, int i) => items[i].ToString();

            public static T Max<T>(T a, T b) where T : IComparable<T> => a.CompareTo(b) > 0 ? a : b;

            public static async Task<int> Async(int x)
            {
                await Task.Yield();
                if (x > 0)
                    return x;
                return 0;
            }

            public static IEnumerable<int> Iterator(int n)
            {
                for (int i = 0; i < n; i++)
                    yield return i;
            }

            public static int Lambda(int x)
            {
                Func<int, int> f = y => y > x ? y : x;
                return f(3);
            }

            public static int Throws(int x)
            {
                if (x > 0)
                    throw new ArgumentOutOfRangeException(nameof(x));
                return x;
            }
        }

        public abstract class Shapes
        {
            public abstract int Area();
            public extern static int External();
        }

        public sealed class Settings
        {
            public int Port { get; init; }

            // An init accessor returns `void modreq(IsExternalInit)`: still void to the stack simulator.
            public static bool IsDefaultPort(int port) => new Settings { Port = port }.Port == 8080;
        }

        public enum Token : byte { None, Word, Number }

        // Comparisons whose operands are known to be 1 or 2 bytes wide (kcov's Cmp1/Cmp2), and those that are not.
        public static class Widths
        {
            public static bool ByteEqual(byte a, byte b) => a == b;

            public static bool CharIsA(char c) => c == 'a';

            public static bool SpanByteIsX(byte[] bytes, int i)
            {
                ReadOnlySpan<byte> span = bytes;
                return span[i] == (byte)'x';
            }

            public static bool StringCharIsLess(string s, int i) => s[i] == '<';

            public static bool ShortLess(short a, short b) => a < b;

            public static bool SByteIsMinusOne(sbyte x) => x == -1;

            public static bool ByteIs300(byte b) => b == 300;

            public static bool ByteEqualsInt(byte b, int x) => b == x;

            public static bool ByteEqualsChar(byte b, char c) => b == c;

            public static bool SByteEqualsByte(sbyte a, byte b) => a == b;

            public static bool UShortLess(ushort a, ushort b) => a < b;

            public static bool IsNumber(Token t) => t == Token.Number;

            public static int NonZero(byte b)
            {
                if (b != 0)
                    return 1;
                return 0;
            }

            public static bool LowByteIsZero(int x) => (byte)x == 0;

            public static int SwitchByte(byte b)
            {
                switch (b)
                {
                    case 0: return 10;
                    case 1: return 11;
                    case 2: return 12;
                    case 3: return 13;
                    default: return -1;
                }
            }
        }
        """;
}
