using System.Globalization;
using Kcov.Control;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Kcov.AspNetCore;

/// <summary>
/// Runs a request whose <c>kcov-handle</c> header holds a common handle as a kcov remote section
/// of that handle: the request's code, on whatever threads its awaits resume, is collected into
/// the area of the device (in the client's process, over the control endpoint) that registered
/// the handle. The request's flow also carries the handle as its common handle
/// (<see cref="Remote.CommonHandle"/>), so work it queues (<see cref="KcovWorkQueue{T}"/>) is
/// covered for the same client. A request without the header is passed on untouched.
/// <para>
/// Register it before exception handlers (<c>app.UseKcov()</c> first): an exception the request
/// throws is recorded for the client's wait (<see cref="RemoteWork"/>) and then rethrown.
/// </para>
/// </summary>
public sealed class KcovRequestMiddleware(RequestDelegate next, ILogger<KcovRequestMiddleware> logger)
{
    /// <summary>The request header that carries the client's common handle: <c>kcov-handle: 0x0000000000000042</c>.</summary>
    public const string HeaderName = ControlProtocol.HandleHeader;

    public Task InvokeAsync(HttpContext context)
    {
        // Without the header: one header lookup, no state machine, nothing else.
        if (!context.Request.Headers.TryGetValue(HeaderName, out var value))
            return next(context);
        if (!TryParseCommonHandle(value, out ulong handle))
        {
            logger.LogDebug("kcov: ignored the {Header} header '{Value}': not a common handle (0x followed by hex digits, subsystem 0, non-zero id)", HeaderName, value.ToString());
            return next(context);
        }
        return InvokeInSectionAsync(context, handle);
    }

    private async Task InvokeInSectionAsync(HttpContext context, ulong handle)
    {
        var work = RemoteWork.Begin(handle);
        Exception? fault = null;
        try
        {
            // Both are undone when this method returns (AsyncLocal), so the connection's next
            // request starts clean.
            Remote.InheritCommonHandle(handle);
            using (Remote.Section(handle))
                await next(context);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
        {
            fault = e;
            throw;
        }
        finally
        {
            // After the section stopped: its coverage is in the client's area.
            work?.End(fault, $"request {context.Request.Method} {context.Request.Path}");
        }
    }

    /// <summary>"0x..." (hex) or decimal; valid only as a common handle (subsystem 0, reserved bytes 0, id not 0).</summary>
    internal static bool TryParseCommonHandle(StringValues value, out ulong handle)
    {
        handle = 0;
        if (value.Count != 1 || value[0] is not { } text)
            return false;
        var span = text.AsSpan().Trim();
        bool parsed = span.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(span[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out handle)
            : ulong.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out handle);
        return parsed && handle != 0 && (handle & ~KcovAbi.InstanceMask) == 0;
    }
}
