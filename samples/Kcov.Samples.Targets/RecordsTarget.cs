using System.Text;

namespace Kcov.Samples.Targets;

/// <summary>
/// Two planted bugs behind one magic: "REC", then a record type. 'A' averages the bytes that follow
/// their count, and divides by a count of zero; 'S' reads a string of the length its first byte
/// gives, past the end of the record. Two distinct crashes (different exceptions in different
/// methods) for a campaign that goes on after the first one (-ignore_crashes=1), and the
/// sample the ClusterFuzz recipe builds (samples/ClusterFuzz).
/// </summary>
public static class RecordsTarget
{
    public static void Run(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4 || data[0] != 'R' || data[1] != 'E' || data[2] != 'C')
            return;
        var record = data[4..];
        switch (data[3])
        {
            case (byte)'A':
                Average(record);
                break;
            case (byte)'S':
                Text(record);
                break;
        }
    }

    private static int Average(ReadOnlySpan<byte> record)
    {
        int count = record.Length > 0 ? record[0] : 0;
        int sum = 0;
        for (int i = 1; i < record.Length; i++)
            sum += record[i];
        // Planted bug 1: a count of zero.
        return sum / count;
    }

    private static string Text(ReadOnlySpan<byte> record)
    {
        if (record.Length == 0)
            return "";
        // Planted bug 2: the length is not checked against the record.
        return Encoding.ASCII.GetString(record.Slice(1, record[0]));
    }
}
