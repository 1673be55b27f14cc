namespace Kcov;

/// <summary>The Linux errno values kcov answers with (asm-generic/errno-base.h, linux/errno.h).</summary>
public static class Errno
{
    /// <summary>Bad file descriptor: the device was closed.</summary>
    public const int EBADF = 9;
    public const int ENOMEM = 12;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENOTTY = 25;
    public const int ENOTSUPP = 524;

    /// <summary>The symbolic name of an errno value (either sign), or its number.</summary>
    public static string Name(int errno) => Math.Abs(errno) switch
    {
        EBADF => "EBADF",
        ENOMEM => "ENOMEM",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        EINVAL => "EINVAL",
        ENOTTY => "ENOTTY",
        ENOTSUPP => "ENOTSUPP",
        var n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
