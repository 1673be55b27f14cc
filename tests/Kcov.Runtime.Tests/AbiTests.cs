namespace Kcov.Tests;

/// <summary>The uapi values, checked against the numbers Linux x86-64 computes for kcov.h.</summary>
public class AbiTests
{
    [Fact]
    public void IoctlNumbersAreLinuxX8664s()
    {
        Assert.Equal(0x80086301u, KcovAbi.InitTrace);    // _IOR('c', 1, unsigned long)
        Assert.Equal(0x00006364u, KcovAbi.Enable);       // _IO('c', 100)
        Assert.Equal(0x00006365u, KcovAbi.Disable);      // _IO('c', 101)
        Assert.Equal(0x40186366u, KcovAbi.RemoteEnable); // _IOW('c', 102, struct kcov_remote_arg), 24 bytes
    }

    [Fact]
    public void TraceModesAndComparisonTypes()
    {
        Assert.Equal(0UL, KcovAbi.TracePc);
        Assert.Equal(1UL, KcovAbi.TraceCmp);
        Assert.Equal(1UL, KcovAbi.CmpConst);
        Assert.Equal([0UL, 2, 4, 6], Enumerable.Range(0, 4).Select(KcovAbi.CmpSize));
        Assert.Equal(6UL, KcovAbi.CmpMask);
        Assert.Equal(4, KcovAbi.WordsPerCmp);
        Assert.Equal((uint)KcovAbi.TracePc, (uint)KcovMode.TracePc);
        Assert.Equal((uint)KcovAbi.TraceCmp, (uint)KcovMode.TraceCmp);
    }

    [Fact]
    public void HandleEncoding()
    {
        Assert.Equal(0UL, KcovAbi.SubsystemCommon);
        Assert.Equal(0x0100_0000_0000_0000UL, KcovAbi.SubsystemUsb);
        Assert.Equal(0xff00_0000_0000_0000UL, KcovAbi.SubsystemMask);
        Assert.Equal(0x0000_0000_ffff_ffffUL, KcovAbi.InstanceMask);
        Assert.Equal(0x100, KcovAbi.RemoteMaxHandles);
    }

    [Theory]
    [InlineData(0x00UL << 56, 0x42UL, 0x42UL)]
    [InlineData(0x01UL << 56, 1UL, 0x0100_0000_0000_0001UL)]
    [InlineData(0xffUL << 56, 0xffff_ffffUL, 0xff00_0000_ffff_ffffUL)]
    [InlineData(0x01UL << 56, 0x1_0000_0000UL, 0UL)] // instance wider than 4 bytes
    [InlineData(0x01UL << 48, 1UL, 0UL)]             // subsystem outside the top byte
    [InlineData(1UL, 1UL, 0UL)]
    public void RemoteHandleIsZeroForInvalidInput(ulong subsys, ulong inst, ulong expected) =>
        Assert.Equal(expected, KcovAbi.RemoteHandle(subsys, inst));
}
