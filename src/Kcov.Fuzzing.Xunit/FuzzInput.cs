using Xunit.Abstractions;

namespace Kcov.Fuzzing.Xunit;

/// <summary>
/// One corpus or crash file as a test case. Serializable (by path), so that every file is its
/// own case in the test explorer and in dotnet test's output, shown by its file name.
/// </summary>
public sealed class FuzzInput : IXunitSerializable
{
    private byte[]? _data;

    /// <summary>For xunit's deserializer.</summary>
    [Obsolete("For xunit's deserializer only.")]
    public FuzzInput()
    {
        Path = Name = "";
    }

    public FuzzInput(string path, string name)
    {
        Path = path;
        Name = name;
    }

    /// <summary>The file.</summary>
    public string Path { get; private set; }

    /// <summary>The file's path relative to its directory, e.g. <c>crash-3f2a...</c>.</summary>
    public string Name { get; private set; }

    /// <summary>The file's bytes, read when first asked for.</summary>
    public ReadOnlySpan<byte> Data => _data ??= File.ReadAllBytes(Path);

    public void Deserialize(IXunitSerializationInfo info)
    {
        Path = info.GetValue<string>(nameof(Path));
        Name = info.GetValue<string>(nameof(Name));
    }

    public void Serialize(IXunitSerializationInfo info)
    {
        info.AddValue(nameof(Path), Path);
        info.AddValue(nameof(Name), Name);
    }

    public override string ToString() => Name;
}
