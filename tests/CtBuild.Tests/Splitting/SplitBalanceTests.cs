using CtBuild.Splitting;

namespace CtBuild.Tests.Splitting;

public sealed class SplitBalanceTests
{
    [Fact]
    public void The_label_skew_of_the_reported_dataset_is_flagged_in_the_splits_that_differ()
    {
        // 255k rows, train 38.1% / valid 43.3% / test 33.2% positives (issue 14).
        var counts = new[] { new SplitCount("train", 178_500, 68_009), new SplitCount("valid", 38_250, 16_562), new SplitCount("test", 38_250, 12_699) };
        var flagged = SplitBalance.Check(counts);
        Assert.Equal(["valid", "test"], flagged.Select(f => f.Split)); // train (38.1%) is close to the rest pooled (38.2%)
        Assert.Contains("valid has 43.3% positives vs 37.2% in the other splits", flagged[0].ToString());
    }

    [Fact]
    public void Chance_differences_pass()
    {
        var counts = new[] { new SplitCount("train", 7_000, 1_680), new SplitCount("valid", 1_500, 372), new SplitCount("test", 1_500, 351) };
        Assert.Empty(SplitBalance.Check(counts));
    }

    [Fact]
    public void The_threshold_is_a_two_sided_p_of_0_001_after_bonferroni_with_pooled_variance()
    {
        // valid vs the rest: 1000 rows each side of a 50% pooled rate; z = diff / sqrt(0.25 * (1/1000 + 1/2000)).
        static SplitCount[] WithValidPositives(int x) =>
            [new SplitCount("train", 1_000, 1_500 - x - 500), new SplitCount("valid", 1_000, x), new SplitCount("test", 1_000, 500)];
        // x = 587: z = (0.587 - 0.4565) / 0.01936 ≈ 6.7 — flagged; x = 540: z ≈ 3.10, p ≈ 0.0019, × 3 > 0.001 — passes.
        Assert.Contains(SplitBalance.Check(WithValidPositives(587)), f => f.Split == "valid");
        var nearMiss = WithValidPositives(540);
        Assert.DoesNotContain(SplitBalance.Check(nearMiss), f => f.Split == "valid");
        var se = Math.Sqrt(0.5 * 0.5 * (1 / 1000.0 + 1 / 2000.0));
        var z = (0.540 - 0.480) / se;
        Assert.InRange(z, 3.0, 3.2);
        Assert.InRange(CtBuild.Evaluation.NormalDistribution.TwoSidedP(z) * 3, 0.001, 0.01);
    }

    [Fact]
    public void One_class_only_or_an_empty_split_is_not_a_skew()
    {
        Assert.Empty(SplitBalance.Check([new SplitCount("train", 100, 0), new SplitCount("valid", 20, 0), new SplitCount("test", 20, 0)]));
        Assert.Empty(SplitBalance.Check([new SplitCount("train", 100, 40)]));
    }
}
