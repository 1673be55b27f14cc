namespace Kcov.Fuzzing;

/// <summary>
/// A running HTTP service as a fuzz target (<see cref="Fuzzer.Run(string[], HttpFuzzTarget)"/>,
/// <c>dotnet kcov fuzz-http</c>): each input is the body of one request that carries the fuzzer's
/// common handle in the <c>kcov-handle</c> header. The signal is the coverage of that request
/// and of the work it queued, read from the service's kcov device over its control endpoint;
/// a fault the service's tracked work meets (an exception in the request or in a queued item)
/// is a crash, reported with the request body.
/// </summary>
public sealed class HttpFuzzTarget
{
    /// <summary>The URL each input is sent to (http or https).</summary>
    public required Uri Url { get; init; }

    /// <summary>The service's control endpoint: the path its <c>KCOV_CONTROL</c> names.</summary>
    public required string ControlEndpoint { get; init; }

    /// <summary>The request method; POST by default.</summary>
    public HttpMethod Method { get; init; } = HttpMethod.Post;

    /// <summary>The Content-Type of the body.</summary>
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>More request headers (name, value), sent with every input.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>
    /// Words of the area each remote section in the service writes (KCOV_REMOTE_ENABLE's
    /// area_size); the service keeps one per thread that runs part of a request.
    /// </summary>
    public uint SectionWords { get; init; } = 1 << 16;

    /// <summary>How long one request's work may run before the input counts as hung (a timeout).</summary>
    public TimeSpan WorkLimit { get; init; } = TimeSpan.FromSeconds(30);
}
