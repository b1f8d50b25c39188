using CtBuild.Reporting;

namespace CtBuild.Tests.Reporting;

public sealed class ReportFormatTests
{
    [Theory]
    [InlineData(0.0040, "0.0040")]
    [InlineData(0.5, "0.5000")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00009, "<1e-4")]
    [InlineData(0.0, "<1e-4")]
    public void P_values(double p, string expected) => Assert.Equal(expected, ReportFormat.PValue(p));

    [Theory]
    [InlineData(0.35, "350 ms")]
    [InlineData(4.24, "4.2s")]
    [InlineData(42.4, "42s")]
    [InlineData(80, "1m 20s")]
    [InlineData(7_500, "2h 05m")]
    public void Durations(double seconds, string expected) => Assert.Equal(expected, ReportFormat.Duration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void Numbers_are_culture_invariant_and_missing_values_show_a_dash()
    {
        Assert.Equal("0.9281", ReportFormat.Auc(0.92806));
        Assert.Equal("+0.0061", ReportFormat.Delta(0.0061));
        Assert.Equal("−0.0117", ReportFormat.Delta(-0.0117));
        Assert.Equal("48,842", ReportFormat.Count(48_842));
        Assert.Equal("97.9%", ReportFormat.Percent(0.979));
        Assert.Equal("0.3960", ReportFormat.Fixed(0.396));
        Assert.Equal("2026-11-27 07:40 UTC", ReportFormat.Time(new DateTimeOffset(2026, 11, 27, 8, 40, 0, TimeSpan.FromHours(1))));
        Assert.Equal("—", ReportFormat.Auc(null));
        Assert.Equal("—", ReportFormat.Auc(double.NaN));
        Assert.Equal("—", ReportFormat.Version(null));
    }

    [Theory]
    [InlineData(0.0712, "0.0712")]
    [InlineData(0.00042, "4.2e-4")]
    [InlineData(47, "47")]
    [InlineData("gbdt", "gbdt")]
    public void Parameters(object value, string expected) => Assert.Equal(expected, ReportFormat.Param(value));
}
