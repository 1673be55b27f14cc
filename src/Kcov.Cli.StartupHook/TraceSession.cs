using Kcov;

/// <summary>The device <c>kcov run</c> enabled on the main thread; kept alive until the process ends.</summary>
internal static class TraceSession
{
    /// <summary>How long the program waits for <c>kcov run</c> to map the area before it runs anyway.</summary>
    private static readonly TimeSpan MapWait = TimeSpan.FromSeconds(30);

    private static KcovDevice? s_device;
    private static KcovArea? s_area;

    public static void Start(string areaFile, int words)
    {
        s_device = KcovDevice.OpenEnabled(words, KcovMode.TracePc, out var area);
        s_area = area;
        // Reset from the tail of the enable, as kcov.rst's example does.
        area.Words[0] = 0;
        // Written atomically: the parent must never read half a name.
        string temp = areaFile + ".tmp";
        File.WriteAllText(temp, area.SharedName);
        File.Move(temp, areaFile, overwrite: true);
        // The area is freed with this process, however it ends: kcov run maps it first, then
        // removes the file to say so. Only then may Main run (and crash).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (File.Exists(areaFile) && clock.Elapsed < MapWait)
            Thread.Sleep(1);
    }
}
