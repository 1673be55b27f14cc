using Kcov.Fuzzing;
using Kcov.Samples.Targets;

// dotnet Kcov.Samples.dll <sample> [libFuzzer flags] [CORPUS_DIR | INPUT_FILE ...]
// The samples, by depth of the planted bug: magic, keyword, length, nested; nested-async (the async
// target form); markdown (Markdig, a real library); crashkinds (every way a target can fail);
// header, pdf, command, enum (bugs behind string, span, dictionary and enum comparisons: call-site hooks);
// escape / escape-fixed (hang-prone, and the same with the loop fixed); twoloops; manycmp (a long hint
// search); threecallers (one bug reached from three callers); records (two distinct planted bugs);
// lockedloop (a hang that holds a lock a later input waits for).
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
    "header" => Fuzzer.Run(flags, HeaderTarget.Run),
    "pdf" => Fuzzer.Run(flags, PdfTarget.Run),
    "command" => Fuzzer.Run(flags, CommandTarget.Run),
    "enum" => Fuzzer.Run(flags, EnumTarget.Run),
    "escape" => Fuzzer.Run(flags, EscapeTarget.Run),
    "escape-fixed" => Fuzzer.Run(flags, EscapeTarget.RunWithoutLoop),
    "twoloops" => Fuzzer.Run(flags, TwoLoopsTarget.Run),
    "manycmp" => Fuzzer.Run(flags, ManyComparisonsTarget.Run),
    "threecallers" => Fuzzer.Run(flags, ThreeCallersTarget.Run),
    "records" => Fuzzer.Run(flags, RecordsTarget.Run),
    "lockedloop" => Fuzzer.Run(flags, LockedLoopTarget.Run),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Kcov.Samples magic|keyword|length|nested|nested-async|markdown|crashkinds|header|pdf|command|enum|escape|escape-fixed|twoloops|manycmp|threecallers|records|lockedloop [libFuzzer flags] [CORPUS_DIR | INPUT_FILE ...]");
    return 2;
}
