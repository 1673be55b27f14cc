using System.Net.Http.Headers;
using Kcov.Control;
using Kcov.Fuzzing.Executor;
using Kcov.Fuzzing.Options;

namespace Kcov.Fuzzing.Service;

/// <summary>
/// The executor's side of <see cref="HttpFuzzTarget"/>: the device it traces with is the service's
/// (<see cref="KcovRemoteDevice"/>), remote-enabled with a common handle that every request carries
/// in its <c>kcov-handle</c> header. One input: send the request, read the response, wait until
/// the service has finished the work of the handle (the request and what it queued), so that the
/// coverage is in the area when the runner reads it; faults the service met become the crash.
/// </summary>
internal sealed class HttpTarget(HttpFuzzTarget spec) : FuzzTarget
{
    // No client-side timeout: the supervisor's -timeout watchdog judges a hung input.
    private readonly HttpClient _client = new() { Timeout = Timeout.InfiniteTimeSpan };
    private KcovRemoteDevice? _device;
    private string _handle = "";

    public override bool Remote => true;

    public override uint? SectionWords => spec.SectionWords;

    public override IKcovDevice OpenDevice() => _device = KcovRemoteDevice.Open(spec.ControlEndpoint);

    public override void UseCommonHandle(ulong handle) => _handle = $"0x{handle:x16}";

    public override void Check()
    {
        if (!spec.Url.IsAbsoluteUri || spec.Url.Scheme is not ("http" or "https"))
            throw new FuzzerUsageException($"'{spec.Url}' is not an http:// or https:// URL; give the full URL of the endpoint to fuzz");
        try
        {
            KcovRemoteDevice.Open(spec.ControlEndpoint).Dispose();
        }
        catch (IOException e)
        {
            throw new FuzzerUsageException(e.Message);
        }
    }

    public override void Invoke(ReadOnlySpan<byte> input)
    {
        var device = _device ?? throw new InvalidOperationException("the HTTP target runs only through a TargetRunner, which opens the service's device");
        using var request = new HttpRequestMessage(spec.Method, spec.Url) { Content = new ByteArrayContent(input.ToArray()) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(spec.ContentType);
        foreach (var (name, value) in spec.Headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
                request.Content.Headers.TryAddWithoutValidation(name, value);
        }
        request.Headers.TryAddWithoutValidation(ControlProtocol.HandleHeader, _handle);
        HttpRequestException? unanswered = null;
        try
        {
            using var response = _client.Send(request);
            response.Content.ReadAsStream().CopyTo(Stream.Null);
        }
        catch (HttpRequestException e)
        {
            unanswered = e;
        }
        IReadOnlyList<string> faults;
        try
        {
            faults = device.WaitIdle(spec.WorkLimit);
        }
        catch (IOException e) when (e is not KcovException)
        {
            throw new ServiceLostException($"the service stopped answering on its control endpoint '{spec.ControlEndpoint}' after this input: {e.Message}", e);
        }
        // What the service says went wrong explains a dropped connection better than the connection does.
        if (faults.Count > 0)
            throw new ServiceFaultException(faults);
        if (unanswered is not null)
            throw new ServiceLostException($"the service at {spec.Url} did not answer this input: {unanswered.Message}", unanswered);
    }
}
