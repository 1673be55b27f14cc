namespace Kcov.Fuzzing.Service;

/// <summary>
/// The service met faults in the work of one input (an exception in its request or in an item the
/// request queued), as its control endpoint reported them. A crash of the input, reported with the
/// service's own exception text (see Crashes/CrashReport.cs).
/// </summary>
internal sealed class ServiceFaultException(IReadOnlyList<string> reports)
    : Exception($"the service reported {reports.Count} fault(s); the first: {reports[0]}")
{
    /// <summary>The fault reports: where (e.g. "queued work: Job"), then the exception's text.</summary>
    public IReadOnlyList<string> Reports { get; } = reports;
}
