namespace Kcov.Tests;

public class SmokeTests
{
    [Fact]
    public void EnabledThreadRecordsPcs()
    {
        using var device = KcovDevice.OpenEnabled(16, KcovMode.TracePc, out var area);
        using (area)
        {
            area.Words[0] = 0;
            Trace.Pc(0x1234);
            Trace.Pc(0x5678);
            Assert.Equal(2UL, area.Words[0]);
            Assert.Equal(0x1234UL, area.Words[1]);
            Assert.Equal(0x5678UL, area.Words[2]);
            device.Disable();
        }
    }
}
