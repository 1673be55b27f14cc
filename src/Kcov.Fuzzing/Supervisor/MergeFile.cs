namespace Kcov.Fuzzing.Supervisor;

/// <summary>An input of a merge: where it is, its size, and (once it ran) its features and PCs.</summary>
internal sealed record MergeFile(string Path, int Size, string Sha1, uint[] Features, uint[] Cov);
