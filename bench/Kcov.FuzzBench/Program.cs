using Kcov.Fuzzing;
using Kcov.FuzzBench;

// dotnet Kcov.FuzzBench.dll <target> [libFuzzer flags] [CORPUS_DIR | INPUT_FILE ...]
// Targets: markdig, yaml, anglesharp, csv, html, zip. Each parses the input as its library's users do;
// the library's own "this input is invalid" exceptions are its documented answers, not findings.
string name = args.Length > 0 ? args[0] : "";
string[] flags = args.Length > 0 ? args[1..] : [];
Action<ReadOnlySpan<byte>>? target = name switch
{
    "markdig" => Targets.Markdig,
    "yaml" => Targets.Yaml,
    "anglesharp" => Targets.AngleSharp,
    "csv" => Targets.Csv,
    "html" => Targets.HtmlAgilityPack,
    "zip" => Targets.Zip,
    _ => null,
};
if (target is null)
{
    Console.Error.WriteLine("usage: Kcov.FuzzBench markdig|yaml|anglesharp|csv|html|zip [libFuzzer flags] [CORPUS_DIR | INPUT_FILE ...]");
    return 2;
}
return Fuzzer.Run(flags, target);
