namespace Kcov.AspNetCore.Tests;

/// <summary>
/// A connection as a fuzz input sees it: reads return the input's bytes (in chunks of varying
/// size, as a socket delivers them) and then the end of stream; replies are counted and dropped.
/// </summary>
internal sealed class ScriptedStream(byte[] input) : Stream
{
    private int _position;

    public long Written { get; private set; }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Short reads: a socket hands over what has arrived, which callers must piece together.
        int n = Math.Min(Math.Min(buffer.Length, input.Length - _position), 1 + _position % 7);
        input.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => Written += count;

    public override void Write(ReadOnlySpan<byte> buffer) => Written += buffer.Length;

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
