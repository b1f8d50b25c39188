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
        var estimator = new ParzenEstimator(distribution, [-4.0, -3.8, 3.0], [1, 1, 1], new ParzenEstimatorParameters(MagicClip: magicClip, KernelWidthWeighting: false));

        const int steps = 20_000;
        double width = (distribution.InternalHigh - distribution.InternalLow) / steps, integral = 0;
        for (int i = 0; i < steps; i++) integral += Math.Exp(estimator.LogPdf(distribution.InternalLow + (i + 0.5) * width)) * width;

        Assert.Equal(1.0, integral, 3);
    }

    [Fact]
    public void Without_the_clip_kernels_are_as_narrow_as_the_gaps_between_observations()
    {
        var estimator = new ParzenEstimator(new FloatDistribution(-5, 5), [-4.0, -3.8, 3.0], [1, 1, 1], new ParzenEstimatorParameters(MagicClip: false, KernelWidthWeighting: false));

        // The kernel at -4 is 0.2 wide (its gap to -3.8), so the density has a sharp peak there.
        Assert.True(estimator.LogPdf(-4.0) > estimator.LogPdf(-3.0) + 0.5);
    }

    // Observations and figures from Optuna 3.1.0's _ParzenEstimator (python3-optuna on Debian), defaults: prior weight 1,
    // magic clip, no endpoints, default_weights; its logpdf has no 1/σ (KernelWidthWeighting), the int one is bin mass.
    private static readonly double[] Observed = [-4.0, -3.8, 3.0, 0.5, 4.9, 1.1, 1.2, -2.0, 2.2, 0.0, 3.3, -1.5, 4.0, 2.8, -0.7, 1.9, 0.3, -4.6, 3.9, 2.5, -3.1, 0.9, 1.7, -2.2, 4.4, 0.1, -0.2, 2.0];

    [Fact]
    public void Default_estimators_score_exactly_as_optuna_3_1()
    {
        var real = new ParzenEstimator(new FloatDistribution(-5, 5), Observed, TpeSampler.DefaultWeights(Observed.Length), ParzenEstimatorParameters.Optuna31);
        double[] at = [-4.9, -4.0, -1.0, 0.0, 0.77, 3.0, 4.99];
        double[] optuna = [-2.896063227330802, -2.7221314052733905, -2.5745664011957072, -2.198229461347438, -2.3232406503747356, -2.434690429377676, -2.659738651731866];
        for (int i = 0; i < at.Length; i++) Assert.Equal(optuna[i], real.LogPdf(at[i]), 1e-6); // erfc is good to ~1e-7

        double[] ints = [1, 3, 3, 7, 10, 2, 5];
        var integer = new ParzenEstimator(new IntDistribution(1, 10), ints, TpeSampler.DefaultWeights(ints.Length), ParzenEstimatorParameters.Optuna31);
        double[] intAt = [1, 3, 6, 10];
        double[] intOptuna = [-1.952612773793673, -1.856581190562299, -2.5748171778513362, -2.9196978906435493];
        for (int i = 0; i < intAt.Length; i++) Assert.Equal(intOptuna[i], integer.LogPdf(intAt[i]), 1e-6);

        var rows = Enumerable.Range(0, 10).Select(i => new[] { Observed[i], Observed[10 + i] }).ToArray();
        var joint = new ParzenEstimator([new FloatDistribution(-5, 5), new FloatDistribution(-5, 5)], rows, TpeSampler.DefaultWeights(10), ParzenEstimatorParameters.Optuna31, multivariate: true);
        Assert.Equal(-2.0910118693632773, joint.LogPdf([0.0, 0.5]), 1e-6);
        Assert.Equal(-2.3450489558673606, joint.LogPdf([1.0, -3.0]), 1e-6);
    }

    // Weights, centres and widths that Optuna 3.1.0's _ParzenEstimator computes for the same input (python3-optuna on
    // Debian, TPESampler defaults; computed once and pasted here): 28 observations, so the first three weigh less (the
    // ramp); an int with step 2, whose range is widened by half a step and whose duplicated 4 gets the magic-clip floor
    // 12/7; a log parameter, whose kernels live on the log scale; the joint kernels' Scott width 0.2·10^(−1/6)·range.
    [Fact]
    public void Weights_centres_and_widths_equal_optuna_3_1()
    {
        var real = new ParzenEstimator(new FloatDistribution(-5, 5), Observed, TpeSampler.DefaultWeights(Observed.Length), ParzenEstimatorParameters.Optuna31);
        double light = 0.0012961762799740763, middle = 0.018794556059624108, full = 0.03629293583927414;
        AssertClose([light, middle, .. Enumerable.Repeat(full, 27)], real.Weights.ToArray());
        AssertClose([.. Observed, 0.0], real.Mus(0));
        double third = 1.0 / 3;
        AssertClose([0.6, 0.7, third, 0.4, 0.5, third, 0.5, 0.5, third, third, 0.6, 0.8, 0.4, third, 0.8, third, third, 0.6, 0.6, third,
            0.9, 0.4, 0.5, 0.9, 0.5, third, 0.5, third, 10.0], real.Sigmas(0));

        double[] ints = [0, 4, 4, 10, 6];
        var stepped = new ParzenEstimator(new IntDistribution(0, 10, 2), ints, TpeSampler.DefaultWeights(ints.Length), ParzenEstimatorParameters.Optuna31);
        AssertClose([0, 4, 4, 10, 6, 5], stepped.Mus(0));
        AssertClose([4, 4, 1.7142857142857142, 4, 4, 12], stepped.Sigmas(0));

        var log = new FloatDistribution(1e-3, 1.0, Log: true);
        var logScale = new ParzenEstimator(log, new[] { 0.01, 0.5, 0.002, 0.1 }.Select(v => log.ToInternal(v)).ToArray(), TpeSampler.DefaultWeights(4), ParzenEstimatorParameters.Optuna31);
        AssertClose([-4.605170185988091, -0.6931471805599453, -6.214608098422191, -2.3025850929940455, -3.4538776394910684], logScale.Mus(0));
        AssertClose([1.6094379124341005, 1.6094379124341, 1.6094379124341005, 1.6094379124341, 6.907755278982137], logScale.Sigmas(0));

        var rows = Enumerable.Range(0, 10).Select(i => new[] { Observed[i], Observed[10 + i] / 2 + 2.5 }).ToArray();
        var joint = new ParzenEstimator([new FloatDistribution(-5, 5), new FloatDistribution(0, 5)], rows, TpeSampler.DefaultWeights(10), ParzenEstimatorParameters.Optuna31, multivariate: true);
        AssertClose([.. Enumerable.Repeat(1.3625841381159227, 10), 10.0], joint.Sigmas(0));
        AssertClose([.. Enumerable.Repeat(0.6812920690579614, 10), 5.0], joint.Sigmas(1));

        // Choices: each kernel is 1 at its choice plus prior weight / (n + 1) everywhere, normalised; the prior kernel is uniform.
        var choice = new ParzenEstimator(new CategoricalDistribution(["a", "b", "c"]), [1.0, 1.0, 2.0], TpeSampler.DefaultWeights(3), ParzenEstimatorParameters.Optuna31);
        AssertClose([0.25 * (3.0 / 7 + third), 0.25 * (11.0 / 7 + third), 0.25 * (1 + third)], [.. Enumerable.Range(0, 3).Select(c => Math.Exp(choice.LogPdf(c)))]);
    }

    // The same inputs through Optuna 5.0.0.dev's _ParzenEstimator (optuna/optuna at 1d8ce7b, run from its source with
    // Debian's python3; computed once and pasted here), whose TPE is multivariate by default: each joint kernel is as wide
    // as its larger neighbour gap in every dimension, the prior's centre is no neighbour, and the density has its 1/σ.
    [Fact]
    public void Optuna_5_estimators_equal_optuna_5_0_dev()
    {
        var parameters = new ParzenEstimatorParameters();
        var rows = Enumerable.Range(0, 10).Select(i => new[] { Observed[i], Observed[10 + i] / 2 + 2.5 }).ToArray();
        var joint = new ParzenEstimator([new FloatDistribution(-5, 5), new FloatDistribution(0, 5)], rows, TpeSampler.DefaultWeights(10), parameters, multivariate: true);
        AssertClose([0.8333333333333334, 1.7999999999999998, 1.9000000000000004, 0.8333333333333334, 1.9000000000000004, 0.8333333333333334,
            1.0000000000000002, 2.0, 1.0000000000000002, 2.0, 10.0], joint.Sigmas(0));
        AssertClose([0.4166666666666667, 1.5499999999999998, 0.4166666666666667, 0.4166666666666667, 0.5, 0.8000000000000003,
            0.8000000000000003, 1.5499999999999998, 0.4166666666666667, 0.4166666666666667, 5.0], joint.Sigmas(1));
        double[][] at = [[0.0, 0.5], [1.0, 3.0], [-4.9, 2.5], [4.99, 4.9]];
        double[] optuna = [-4.813530446958979, -3.0987547407459015, -4.7293069496623215, -4.525882793317152];
        for (int i = 0; i < at.Length; i++) Assert.Equal(optuna[i], joint.LogPdf(at[i]), 1e-6); // erfc is good to ~1e-7

        var real = new ParzenEstimator(new FloatDistribution(-5, 5), Observed, TpeSampler.DefaultWeights(Observed.Length), parameters);
        AssertClose([0.5999999999999996, 0.6999999999999997, 1.0 / 3, 0.4, 0.5, 1.0 / 3, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 0.6000000000000001, 0.8,
            0.40000000000000036, 1.0 / 3, 0.8, 1.0 / 3, 1.0 / 3, 0.5999999999999996, 0.6000000000000001, 1.0 / 3, 0.8999999999999999, 0.4, 0.5,
            0.8999999999999999, 0.5, 1.0 / 3, 0.49999999999999994, 1.0 / 3, 10.0], real.Sigmas(0));
        double[] realAt = [-4.9, -4.0, -1.0, 0.0, 0.77, 3.0, 4.99];
        double[] realOptuna = [-3.2757080110834034, -3.0579630945826857, -2.883914250718872, -1.7030522301975672, -1.8847131696128507, -2.015085421817044, -2.579760371644491];
        for (int i = 0; i < realAt.Length; i++) Assert.Equal(realOptuna[i], real.LogPdf(realAt[i]), 1e-6);

        // The second 4 is as wide as its gap to 6: with the prior's 5 as a neighbour (3.1) it was clipped up to 12/7.
        double[] ints = [0, 4, 4, 10, 6];
        var stepped = new ParzenEstimator(new IntDistribution(0, 10, 2), ints, TpeSampler.DefaultWeights(ints.Length), parameters);
        AssertClose([4, 4, 2, 4, 4, 12], stepped.Sigmas(0));
        double[] intAt = [0, 4, 6, 10];
        double[] intOptuna = [-2.033412548323861, -1.5240523954729346, -1.6391635920954235, -2.1059855171130817];
        for (int i = 0; i < intAt.Length; i++) Assert.Equal(intOptuna[i], stepped.LogPdf(intAt[i]), 1e-6);
    }

    static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-12, $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Fact]
    public void Samples_stay_in_range_and_follow_the_density()
    {
        var distribution = new FloatDistribution(0, 10);
        var estimator = new ParzenEstimator(distribution, [9.5, 9.6, 9.7, 9.8], [1, 1, 1, 1], ParzenEstimatorParameters.Optuna31);
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
