namespace Kcov.Fuzzing.Ipc;

/// <summary>An executor's counters, as printed on status lines; Execs counts the whole campaign.</summary>
internal readonly record struct FuzzStats(long Execs, int Cov, int Features, int CorpusCount, long CorpusBytes, long Overflows, int LengthLimit, int Edges = 0);
