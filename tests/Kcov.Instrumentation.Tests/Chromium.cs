namespace Kcov.Instrumentation.Tests;

/// <summary>Debian's chromium, headless, with the flags this machine needs (.ci/run installs it when missing).</summary>
internal static class Chromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>A fresh profile in <paramref name="profile"/>; no background networking (the network here is closed).</summary>
    public static string[] Flags(string profile) =>
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}",
    ];
}
