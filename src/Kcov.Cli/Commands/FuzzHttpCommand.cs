using System.CommandLine;
using Kcov.Fuzzing;

namespace Kcov.Cli.Commands;

/// <summary>
/// <c>dotnet kcov fuzz-http &lt;url&gt; --control SOCKET [-X METHOD] [--content-type T] [-H 'Name: value']... [libFuzzer flags] [CORPUS_DIR | FILE]...</c>:
/// fuzzes a running service (ASP.NET Core with Kcov.AspNetCore, started with KCOV_CONTROL=SOCKET and
/// its code instrumented): each input is a request body sent with the fuzzer's kcov-handle, the signal
/// is the coverage of the request and of the work it queued, read over the control endpoint. This
/// process is the fuzzer (Kcov.Fuzzing's HTTP target); libFuzzer's flags pass through untouched.
/// </summary>
internal static class FuzzHttpCommand
{
    public static Command Create(Streams io)
    {
        var url = new Argument<string>("url") { Description = "The URL each input is sent to, e.g. http://127.0.0.1:5000/orders." };
        var control = new Option<string>("--control") { Description = "The service's control endpoint: the socket path its KCOV_CONTROL names.", Required = true };
        var method = new Option<string>("--method", "-X") { Description = "The request method.", DefaultValueFactory = _ => "POST" };
        var contentType = new Option<string>("--content-type") { Description = "The Content-Type of the request body.", DefaultValueFactory = _ => "application/octet-stream" };
        var headers = new Option<string[]>("--header", "-H") { Description = "A request header sent with every input, 'Name: value'; repeatable." };
        var command = new Command("fuzz-http", "Fuzz a running service by its request bodies, with coverage from its kcov device over the control endpoint: takes libFuzzer's flags (-runs=N, -seed=N, -max_len=N, -dict=F, ...) and corpus directories or input files after the URL.")
        {
            url, control, method, contentType, headers,
        };
        // libFuzzer's flags (-runs=100) and the corpus are the fuzzer's: they pass through as they are.
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(parse => Run(parse.GetValue(url)!, parse.GetValue(control)!, parse.GetValue(method)!, parse.GetValue(contentType)!,
            parse.GetValue(headers) ?? [], [.. parse.UnmatchedTokens]));
        return command;
    }

    private static int Run(string url, string control, string method, string contentType, string[] headers, string[] fuzzerArgs)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new UserErrorException($"'{url}' is not an http:// or https:// URL; give the full URL of the endpoint to fuzz, e.g. http://127.0.0.1:5000/orders.");
        var extra = new List<KeyValuePair<string, string>>();
        foreach (string header in headers)
        {
            int colon = header.IndexOf(':');
            if (colon <= 0)
                throw new UserErrorException($"--header '{header}' is not 'Name: value'.");
            extra.Add(new(header[..colon].Trim(), header[(colon + 1)..].Trim()));
        }
        var target = new HttpFuzzTarget
        {
            Url = uri,
            ControlEndpoint = control,
            Method = new HttpMethod(method.ToUpperInvariant()),
            ContentType = contentType,
            Headers = extra,
        };
        // The fuzzer reports on the console in libFuzzer's shape and returns libFuzzer's exit codes;
        // its executors are this command started again with the same arguments.
        return Fuzzer.Run(fuzzerArgs, target);
    }
}
