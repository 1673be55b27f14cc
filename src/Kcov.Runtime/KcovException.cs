namespace Kcov;

/// <summary>
/// A kcov call failed with the errno kcov.c answers in the same situation.
/// <see cref="Exception.Message"/> says what was wrong and what to do.
/// </summary>
public class KcovException : IOException
{
    public KcovException(int errno, string operation, string reason)
        : base($"{operation} failed with {Kcov.Errno.Name(errno)}: {reason}.")
    {
        Errno = Math.Abs(errno);
        Operation = operation;
    }

    /// <summary>The positive errno (Errno.EBUSY, Errno.EINVAL, ...).</summary>
    public int Errno { get; }

    /// <summary>The kcov operation that failed, e.g. "KCOV_ENABLE".</summary>
    public string Operation { get; }

    /// <summary>The exception type for an errno: one subtype per errno the device answers with.</summary>
    public static KcovException For(int errno, string operation, string reason) => Math.Abs(errno) switch
    {
        Kcov.Errno.EBUSY => new KcovBusyException(operation, reason),
        Kcov.Errno.EINVAL => new KcovInvalidArgumentException(operation, reason),
        Kcov.Errno.EEXIST => new KcovHandleInUseException(operation, reason),
        Kcov.Errno.EBADF => new KcovDeviceClosedException(operation, reason),
        _ => new KcovException(errno, operation, reason),
    };
}

/// <summary>EBUSY: the device or the thread is already in use.</summary>
public sealed class KcovBusyException(string operation, string reason)
    : KcovException(Kcov.Errno.EBUSY, operation, reason);

/// <summary>EINVAL: an argument, or the device's state, does not allow the call.</summary>
public sealed class KcovInvalidArgumentException(string operation, string reason)
    : KcovException(Kcov.Errno.EINVAL, operation, reason);

/// <summary>EEXIST: a remote handle is already held by another device.</summary>
public sealed class KcovHandleInUseException(string operation, string reason)
    : KcovException(Kcov.Errno.EEXIST, operation, reason);

/// <summary>EBADF: the device was closed.</summary>
public sealed class KcovDeviceClosedException(string operation, string reason)
    : KcovException(Kcov.Errno.EBADF, operation, reason);
