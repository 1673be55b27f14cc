namespace Kcov.Fuzzing.Service;

/// <summary>
/// The service stopped answering (its HTTP port or its control endpoint) during an input: it
/// died, or hangs up on that input. Reported once as a crash of the input; fuzzing then stops,
/// since no later input can reach the service.
/// </summary>
internal sealed class ServiceLostException(string message, Exception inner) : IOException(message, inner);
