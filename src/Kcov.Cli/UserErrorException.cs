namespace Kcov.Cli;

/// <summary>Something the user gave is wrong; the message is the one line kcov prints.</summary>
internal sealed class UserErrorException(string message, Exception? inner = null) : Exception(message, inner);
