using System.Text;
using ICSharpCode.SharpZipLib.BZip2;
using ICSharpCode.SharpZipLib.Checksum;
using ICSharpCode.SharpZipLib.GZip;
using ICSharpCode.SharpZipLib.Tar;
using ICSharpCode.SharpZipLib.Zip;

namespace Kcov.Workloads;

/// <summary>Archives with SharpZipLib: zip, gzip, bzip2 or tar by magic; every entry's name, size and CRC-32.</summary>
public static class SharpZipLibWorkload
{
    public static string Run(byte[] input)
    {
        var output = new StringBuilder();
        using var source = new MemoryStream(input, writable: false);
        if (input.Length >= 2 && input[0] == 'P' && input[1] == 'K')
        {
            using var zip = new ZipInputStream(source);
            while (zip.GetNextEntry() is { } entry)
                output.Append(entry.Name).Append(' ').Append(entry.CompressionMethod).Append(' ').AppendLine(Digest(zip));
        }
        else if (input.Length >= 2 && input[0] == 0x1f && input[1] == 0x8b)
        {
            using var gzip = new GZipInputStream(source);
            output.AppendLine(Digest(gzip));
        }
        else if (input.Length >= 3 && input[0] == 'B' && input[1] == 'Z' && input[2] == 'h')
        {
            using var bzip2 = new BZip2InputStream(source);
            output.AppendLine(Digest(bzip2));
        }
        else
        {
            using var tar = new TarInputStream(source, Encoding.UTF8);
            while (tar.GetNextEntry() is { } entry)
                output.Append(entry.Name).Append(' ').Append(entry.Size).Append(' ').AppendLine(Digest(tar));
        }
        return output.ToString();
    }

    private static string Digest(Stream stream)
    {
        var crc = new Crc32();
        var buffer = new byte[4096];
        long total = 0;
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            crc.Update(new ArraySegment<byte>(buffer, 0, n));
            total += n;
        }
        return $"{total}:{crc.Value:x8}";
    }

    /// <summary>Real archives, made here with fixed timestamps so they are the same bytes every run.</summary>
    public static IReadOnlyList<byte[]> Archives()
    {
        var time = new DateTime(2024, 1, 2, 3, 4, 6, DateTimeKind.Utc);
        var files = Corpus.Documents("markdown").Concat(Corpus.Documents("csv")).Take(4).ToArray();
        byte[] Zip(bool deflate)
        {
            var buffer = new MemoryStream();
            using (var zip = new ZipOutputStream(buffer) { IsStreamOwner = false })
            {
                for (int i = 0; i < files.Length; i++)
                {
                    zip.PutNextEntry(new ZipEntry($"dir/file{i}.txt") { DateTime = time, CompressionMethod = deflate ? CompressionMethod.Deflated : CompressionMethod.Stored });
                    zip.Write(files[i]);
                    zip.CloseEntry();
                }
            }
            return buffer.ToArray();
        }
        byte[] Compress(Func<Stream, Stream> wrap)
        {
            var buffer = new MemoryStream();
            using (var stream = wrap(buffer))
                stream.Write(files[0]);
            return buffer.ToArray();
        }
        byte[] Tar()
        {
            var buffer = new MemoryStream();
            using (var tar = new TarOutputStream(buffer, Encoding.UTF8) { IsStreamOwner = false })
            {
                for (int i = 0; i < 2; i++)
                {
                    var entry = TarEntry.CreateTarEntry($"docs/file{i}.md");
                    entry.Size = files[i].Length;
                    entry.ModTime = time;
                    tar.PutNextEntry(entry);
                    tar.Write(files[i]);
                    tar.CloseEntry();
                }
            }
            return buffer.ToArray();
        }
        return
        [
            Zip(deflate: true),
            Zip(deflate: false),
            Compress(s => new GZipOutputStream(s) { IsStreamOwner = false }),
            Compress(s => new BZip2OutputStream(s) { IsStreamOwner = false }),
            Tar(),
        ];
    }
}
