using CtBuild.Evaluation;

namespace CtBuild.Tests.Evaluation;

public class DeLongTests
{
    [Theory]
    [InlineData(60, 1)]
    [InlineData(300, 2)]
    [InlineData(800, 3)]
    public void Variance_and_covariance_match_brute_force_placement_values(int n, int seed)
    {
        var (labels, a, b) = EvaluationData.Pair(n, seed, championNoise: 0.8, decimals: 1); // decimals: 1 → many ties
        var expected = BruteForce(labels, a, b);

        var result = DeLong.Compare(labels, a, b);

        Assert.Equal(EvaluationData.BruteForceAuc(labels, a), result.AucA, 12);
        Assert.Equal(EvaluationData.BruteForceAuc(labels, b), result.AucB, 12);
        Assert.Equal(expected.VarianceA, result.VarianceA, 12);
        Assert.Equal(expected.VarianceB, result.VarianceB, 12);
        Assert.Equal(expected.Covariance, result.Covariance, 12);
        double z = (result.AucA - result.AucB) / Math.Sqrt(expected.VarianceA + expected.VarianceB - 2 * expected.Covariance);
        Assert.Equal(z, result.Z, 9);
        Assert.Equal(NormalDistribution.TwoSidedP(z), result.P, 12);
    }

    [Fact]
    public void A_clearly_better_first_model_gives_positive_z_and_small_p()
    {
        var (labels, good, noisy) = EvaluationData.Pair(3000, 5, championNoise: 3.0);
        var result = DeLong.Compare(labels, good, noisy);
        Assert.True(result.Delta > 0.05, $"Δ = {result.Delta}");
        Assert.True(result.Z > 3, $"z = {result.Z}");
        Assert.True(result.P < 0.01, $"p = {result.P}");
        Assert.Equal(-result.Z, DeLong.Compare(labels, noisy, good).Z, 9);
    }

    [Fact]
    public void Identical_models_give_z_0_and_p_1()
    {
        var (labels, scores, _) = EvaluationData.Pair(500, 9, championNoise: 1);
        var result = DeLong.Compare(labels, scores, (double[])scores.Clone());
        Assert.Equal(0.0, result.Delta);
        Assert.Equal(0.0, result.Z);
        Assert.Equal(1.0, result.P);
    }

    [Fact]
    public void A_class_with_one_row_gives_auc_but_no_variance()
    {
        var result = DeLong.Compare([true, false, false], [0.9, 0.1, 0.2], [0.1, 0.9, 0.2]);
        Assert.Equal(1.0, result.AucA);
        Assert.True(double.IsNaN(result.P));
    }

    // DeLong (1988) structural components by definition: V10(x_i) = mean over negatives of ψ(x_i, y_j),
    // V01(y_j) = mean over positives of ψ(x_i, y_j), ψ = 1 above, ½ tied; S = S10/m + S01/n.
    private static (double VarianceA, double VarianceB, double Covariance) BruteForce(bool[] labels, double[] a, double[] b)
    {
        int[] positives = Enumerable.Range(0, labels.Length).Where(i => labels[i]).ToArray();
        int[] negatives = Enumerable.Range(0, labels.Length).Where(i => !labels[i]).ToArray();
        static double Psi(double x, double y) => x > y ? 1 : x == y ? 0.5 : 0;
        double[] V10(double[] s) => positives.Select(i => negatives.Average(j => Psi(s[i], s[j]))).ToArray();
        double[] V01(double[] s) => negatives.Select(j => positives.Average(i => Psi(s[i], s[j]))).ToArray();
        static double Cov(double[] x, double[] y)
        {
            double mx = x.Average(), my = y.Average();
            return x.Zip(y, (u, v) => (u - mx) * (v - my)).Sum() / (x.Length - 1);
        }
        double[] a10 = V10(a), b10 = V10(b), a01 = V01(a), b01 = V01(b);
        int m = positives.Length, n = negatives.Length;
        return (Cov(a10, a10) / m + Cov(a01, a01) / n,
                Cov(b10, b10) / m + Cov(b01, b01) / n,
                Cov(a10, b10) / m + Cov(a01, b01) / n);
    }
}
