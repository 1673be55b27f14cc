using Kcov.Fuzzing;
using Kcov.Samples.Targets;

// dotnet Kcov.Samples.dll <sample> [libFuzzer flags] [CORPUS_DIR | INPUT_FILE ...]
// The samples, by depth of the planted bug: magic, keyword, length, nested; nested-async (the async
// target form); markdown (Markdig, a real library); crashkinds (every way a target can fail);
// records (two distinct planted bugs).
string sample = args.Length > 0 ? args[0] : "";
string[] flags = args.Length > 0 ? args[1..] : [];
return sample switch
{
    "magic" => Fuzzer.Run(flags, MagicNumberTarget.Run),
    "keyword" => Fuzzer.Run(flags, KeywordTarget.Run),
    "length" => Fuzzer.Run(flags, LengthFieldTarget.Run),
    "nested" => Fuzzer.Run(flags, NestedTarget.Run),
    "nested-async" => Fuzzer.Run(flags, AsyncNestedTarget.Run),
    "markdown" => Fuzzer.Run(flags, MarkdownTarget.Run),
    "crashkinds" => Fuzzer.Run(flags, CrashKindsTarget.Run),
    "records" => Fuzzer.Run(flags, RecordsTarget.Run),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Kcov.Samples magic|keyword|length|nested|nested-async|markdown|crashkinds|records [libFuzzer flags] [CORPUS_DIR | INPUT_FILE ...]");
    return 2;
}
