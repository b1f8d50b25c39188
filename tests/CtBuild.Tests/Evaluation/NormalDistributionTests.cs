using CtBuild.Evaluation;

namespace CtBuild.Tests.Evaluation;

public class NormalDistributionTests
{
    // Reference values from a correctly rounded libm (CPython's math.erf / math.erfc).
    [Theory]
    [InlineData(0.0, 0.0, 1.0)]
    [InlineData(0.001, 0.0011283787909692365, 0.9988716212090307)]
    [InlineData(0.1, 0.1124629160182849, 0.8875370839817152)]
    [InlineData(0.5, 0.5204998778130465, 0.4795001221869535)]
    [InlineData(0.9, 0.7969082124228322, 0.20309178757716786)]
    [InlineData(1.0, 0.8427007929497149, 0.15729920705028513)]
    [InlineData(1.5, 0.9661051464753108, 0.033894853524689274)]
    [InlineData(1.99, 0.995111413199617, 0.004888586800383003)]
    [InlineData(2.0, 0.9953222650189527, 0.004677734981047265)]
    [InlineData(2.01, 0.9955248493552482, 0.004475150644751763)]
    [InlineData(2.5, 0.999593047982555, 0.0004069520174449589)]
    [InlineData(3.0, 0.9999779095030014, 2.2090496998585438e-05)]
    [InlineData(4.0, 0.9999999845827421, 1.541725790028002e-08)]
    [InlineData(5.0, 0.9999999999984626, 1.5374597944280351e-12)]
    [InlineData(6.0, 1.0, 2.1519736712498916e-17)]
    [InlineData(10.0, 1.0, 2.088487583762545e-45)]
    [InlineData(20.0, 1.0, 5.3958656116079005e-176)]
    [InlineData(26.0, 1.0, 5.663192408856143e-296)]
    public void Erf_and_erfc_match_reference_values_to_relative_1e_13(double x, double erf, double erfc)
    {
        AssertRelative(erf, NormalDistribution.Erf(x), 1e-13);
        AssertRelative(erfc, NormalDistribution.Erfc(x), 1e-13);
        AssertRelative(-erf, NormalDistribution.Erf(-x), 1e-13);
        AssertRelative(2 - erfc, NormalDistribution.Erfc(-x), 1e-13);
    }

    [Fact]
    public void Normal_cdf_and_two_sided_p_match_textbook_quantiles()
    {
        AssertRelative(0.5, NormalDistribution.Cdf(0), 1e-15);
        AssertRelative(0.975, NormalDistribution.Cdf(1.959963984540054), 1e-13);
        AssertRelative(0.05, NormalDistribution.TwoSidedP(1.959963984540054), 1e-12);
        AssertRelative(0.05, NormalDistribution.TwoSidedP(-1.959963984540054), 1e-12);
        AssertRelative(0.0026997960632601913, NormalDistribution.TwoSidedP(3), 1e-12);
        Assert.Equal(1.0, NormalDistribution.TwoSidedP(0));
        Assert.Equal(0.0, NormalDistribution.TwoSidedP(double.PositiveInfinity));
        Assert.True(double.IsNaN(NormalDistribution.Erfc(double.NaN)));
    }

    private static void AssertRelative(double expected, double actual, double tolerance)
    {
        double error = expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / Math.Abs(expected);
        Assert.True(error <= tolerance, $"expected {expected:R}, got {actual:R} (relative error {error:E2})");
    }

    [Theory]
    [InlineData(0.95, 1.6448536269514722)]
    [InlineData(0.8, 0.8416212335729143)]
    [InlineData(0.9975, 2.807033768343811)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.001, -3.090232306167814)]
    public void The_quantile_matches_reference_values_to_1e12(double p, double z) =>
        Assert.Equal(z, NormalDistribution.Quantile(p), 1e-12);

    [Fact]
    public void The_upper_tail_p_is_half_the_two_sided_p_on_the_positive_side()
    {
        Assert.Equal(NormalDistribution.TwoSidedP(2.1) / 2, NormalDistribution.UpperTailP(2.1), 15);
        Assert.Equal(1 - NormalDistribution.TwoSidedP(2.1) / 2, NormalDistribution.UpperTailP(-2.1), 15);
    }
}
