using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Kcov.AspNetCore.Bench;

/// <summary>
/// Drives one endpoint for a fixed time and returns requests per second: wrk when it is installed
/// (Debian's <c>wrk</c>: one thread, <see cref="Connections"/> keep-alive connections), else a
/// bounded loop of the same number of HttpClient workers in this process.
/// </summary>
internal sealed partial class LoadGenerator(bool useWrk)
{
    public const int Connections = 16;

    public string Name => useWrk ? $"wrk -t1 -c{Connections}" : $"an in-process loop of {Connections} HttpClient workers";

    public static bool WrkInstalled() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, "wrk")));

    public double RequestsPerSecond(Uri url, HttpMethod method, byte[] body, string? handle, TimeSpan duration) =>
        useWrk ? Wrk(url, method, body, handle, duration) : Loop(url, method, body, handle, duration);

    private static double Wrk(Uri url, HttpMethod method, byte[] body, string? handle, TimeSpan duration)
    {
        string script = Path.Combine(Path.GetTempPath(), $"kcov-bench-{Guid.NewGuid():N}.lua");
        var lua = new StringBuilder();
        lua.AppendLine($"wrk.method = \"{method.Method}\"");
        if (body.Length > 0)
        {
            // Lua's decimal escapes carry any byte.
            lua.AppendLine($"wrk.body = \"{string.Concat(body.Select(b => $"\\{b}"))}\"");
            lua.AppendLine("wrk.headers[\"Content-Type\"] = \"application/octet-stream\"");
        }
        if (handle is not null)
            lua.AppendLine($"wrk.headers[\"kcov-handle\"] = \"{handle}\"");
        File.WriteAllText(script, lua.ToString());
        try
        {
            var info = new ProcessStartInfo("wrk") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "-t1", $"-c{Connections}", $"-d{(int)duration.TotalSeconds}s", "-s", script, url.ToString() })
                info.ArgumentList.Add(arg);
            using var wrk = Process.Start(info)!;
            var stderr = wrk.StandardError.ReadToEndAsync();
            string output = wrk.StandardOutput.ReadToEnd();
            wrk.WaitForExit();
            if (RequestsLine().Match(output) is not { Success: true } match)
                throw new InvalidOperationException($"wrk printed no Requests/sec:\n{output}\n{stderr.Result}");
            if (NonSuccess().Match(output) is { Success: true } errors)
                throw new InvalidOperationException($"the service answered with errors under load ({errors.Value}):\n{output}");
            return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static double Loop(Uri url, HttpMethod method, byte[] body, string? handle, TimeSpan duration)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Connections });
        long done = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, Connections).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                using var request = new HttpRequestMessage(method, url);
                if (body.Length > 0)
                    request.Content = new ByteArrayContent(body);
                if (handle is not null)
                    request.Headers.Add("kcov-handle", handle);
                using var response = await client.SendAsync(request);
                response.EnsureSuccessStatusCode();
                Interlocked.Increment(ref done);
            }
        })).ToArray();
        Task.WaitAll(workers);
        return done / clock.Elapsed.TotalSeconds;
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses: \d+")]
    private static partial Regex NonSuccess();
}
