using CtBuild.Tuning;

namespace CtBuild.Tests.Tuning;

public class ParzenEstimatorTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Numeric_density_integrates_to_one_over_the_range(bool magicClip)
    {
        var distribution = new FloatDistribution(-5, 5);
        var estimator = new ParzenEstimator(distribution, [-4.0, -3.8, 3.0], [1, 1, 1], new ParzenEstimatorParameters(MagicClip: magicClip));

        const int steps = 20_000;
        double width = (distribution.InternalHigh - distribution.InternalLow) / steps, integral = 0;
        for (int i = 0; i < steps; i++) integral += Math.Exp(estimator.LogPdf(distribution.InternalLow + (i + 0.5) * width)) * width;

        Assert.Equal(1.0, integral, 3);
    }

    [Fact]
    public void Without_the_clip_kernels_are_as_narrow_as_the_gaps_between_observations()
    {
        var estimator = new ParzenEstimator(new FloatDistribution(-5, 5), [-4.0, -3.8, 3.0], [1, 1, 1], new ParzenEstimatorParameters(MagicClip: false));

        // The kernel at -4 is 0.2 wide (its gap to -3.8), so the density has a sharp peak there.
        Assert.True(estimator.LogPdf(-4.0) > estimator.LogPdf(-3.0) + 0.5);
    }

    [Fact]
    public void Samples_stay_in_range_and_follow_the_density()
    {
        var distribution = new FloatDistribution(0, 10);
        var estimator = new ParzenEstimator(distribution, [9.5, 9.6, 9.7, 9.8], [1, 1, 1, 1], new ParzenEstimatorParameters());
        var random = new Random(1);

        var samples = Enumerable.Range(0, 2000).Select(_ => estimator.Sample(random)).ToArray();

        Assert.All(samples, s => Assert.InRange(s, distribution.InternalLow, distribution.InternalHigh));
        // Worked by hand: the kernels at 9.6, 9.7, 9.8 get the clipped width 10/6 and put 0.716 of their mass above 8;
        // the one at 9.5 is as wide as its gap to the prior (4.5) and puts 0.33 there; the prior 0.2.
        // (3 × 0.716 + 0.33 + 0.2) / 5 = 0.536.
        Assert.InRange(samples.Count(s => s > 8) / 2000.0, 0.50, 0.57);
    }

    [Fact]
    public void Categorical_probabilities_sum_to_one_and_favour_observed_choices()
    {
        var distribution = new CategoricalDistribution(["a", "b", "c"]);
        var estimator = new ParzenEstimator(distribution, [1.0, 1.0, 2.0], [1, 1, 1], new ParzenEstimatorParameters());

        var probabilities = Enumerable.Range(0, 3).Select(c => Math.Exp(estimator.LogPdf(c))).ToArray();

        Assert.Equal(1.0, probabilities.Sum(), 12);
        Assert.True(probabilities[1] > probabilities[2] && probabilities[2] > probabilities[0]);
        Assert.True(probabilities[0] > 0);
    }

    [Fact]
    public void Truncated_normal_functions_are_accurate()
    {
        Assert.Equal(0.975, TruncatedNormal.Cdf(1.959963984540054), 6);
        Assert.Equal(1.959963984540054, TruncatedNormal.InverseCdf(0.975), 5);
        Assert.Equal(-2.326347874040841, TruncatedNormal.InverseCdf(0.01), 5);
        Assert.Equal(Math.Log(0.5), TruncatedNormal.LogMass(0, 1, 0, 100), 6);
    }
}
