using CtBuild.Evaluation;

namespace CtBuild.Tests.Evaluation;

public class BootstrapComparisonTests
{
    [Theory]
    [InlineData(7, 4, 1)]     // fewer rows than one vector step: the scalar tails
    [InlineData(300, 1, 3)]   // three decimals at 300 rows: some ties
    [InlineData(2000, 2, 1)]  // one decimal: ties everywhere, mixed-class tie groups in every resample
    [InlineData(2000, 3, 4)]
    public void Fast_path_equals_the_naive_resort_for_the_same_seed(int n, int seed, int decimals)
    {
        var (labels, candidate, champion) = EvaluationData.Pair(n, seed, championNoise: 0.6, decimals: decimals);

        var fast = BootstrapComparison.Run(labels, candidate, champion, resamples: 60, seed: 11);
        var naive = BootstrapComparison.RunNaive(labels, candidate, champion, resamples: 60, seed: 11);

        for (int r = 0; r < 60; r++)
            Assert.Equal(naive.DeltaAucs[r], fast.DeltaAucs[r], 12);
        Assert.Equal(naive.Wins, fast.Wins);
        Assert.Equal(naive.CandidateAuc, fast.CandidateAuc, 12);
        Assert.Equal(naive.ChampionAuc, fast.ChampionAuc, 12);
    }

    [Fact]
    public void Vector_and_scalar_passes_agree_and_match_a_resort_of_each_lane()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(3000, 12, championNoise: 0.7, decimals: 2);
        var resampler = StratifiedResampler.InOrder(labels, ScoreOrder.Of(candidate), seed: 8);
        var order = WeightedOrder.Build(labels, ScoreOrder.Of(champion), resampler);
        var counts = new PackedCounts(labels.Length);
        for (int lane = 0; lane < WeightedOrder.Lanes; lane++)
            counts.Draw(resampler, lane, lane);
        Assert.Equal(0, counts.Pack(labels.Length, WeightedOrder.Lanes));

        var simd = new long[WeightedOrder.Lanes];
        var scalar = new long[WeightedOrder.Lanes];
        order.TwiceU(counts.Packed, simd);
        order.TwiceU(counts.Packed, scalar, allowSimd: false);

        Assert.Equal(scalar, simd);
        for (int lane = 0; lane < WeightedOrder.Lanes; lane++)
        {
            int[] rows = resampler.DrawRows(lane);
            var resort = ScoreOrder.Of(rows.Select(row => champion[row]).ToArray());
            Assert.Equal(resort.TwiceU(rows.Select(row => labels[row]).ToArray()), scalar[lane]);
        }
    }

    [Fact]
    public void Resamples_keep_the_class_counts_and_vary()
    {
        var (labels, scores) = EvaluationData.Tied(400, 50, seed: 8);
        var resampler = StratifiedResampler.InOrder(labels, ScoreOrder.Of(scores), seed: 5);
        int positives = labels.Count(l => l);

        int[] first = resampler.DrawRows(0), second = resampler.DrawRows(1);

        Assert.Equal(positives, first.Count(row => labels[row]));
        Assert.Equal(positives, second.Count(row => labels[row]));
        Assert.NotEqual(first, second);
        Assert.True(first.Distinct().Count() < first.Length, "a bootstrap resample draws with replacement");
        Assert.Equal(first, resampler.DrawRows(0));
    }

    [Fact]
    public void Same_seed_gives_the_same_result_whatever_the_parallelism_and_another_seed_differs()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(1500, 6, championNoise: 0.5);

        var parallel = BootstrapComparison.Run(labels, candidate, champion, 200, seed: 3);
        var serial = BootstrapComparison.Run(labels, candidate, champion, 200, seed: 3, maxParallelism: 1);
        var other = BootstrapComparison.Run(labels, candidate, champion, 200, seed: 4);

        Assert.Equal(serial.DeltaAucs, parallel.DeltaAucs);
        Assert.NotEqual(serial.DeltaAucs, other.DeltaAucs);
    }

    [Fact]
    public void A_better_candidate_gives_positive_delta_and_win_ratio_near_1_and_swapping_flips_it()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(3000, 7, championNoise: 2.0);

        var better = BootstrapComparison.Run(labels, candidate, champion, 300, seed: 1);
        var worse = BootstrapComparison.Run(labels, champion, candidate, 300, seed: 1);

        Assert.True(better.CandidateAuc > better.ChampionAuc);
        Assert.True(better.MeanDelta > 0);
        Assert.True(better.WinRatio > 0.99, $"win ratio {better.WinRatio}");
        Assert.True(better.DeltaLower > 0 && better.DeltaLower <= better.MeanDelta && better.MeanDelta <= better.DeltaUpper);
        Assert.True(worse.WinRatio < 0.01, $"win ratio {worse.WinRatio}");
        Assert.True(worse.MeanDelta < 0);
    }

    [Fact]
    public void Identical_models_never_win_because_a_tie_is_not_a_win()
    {
        var (labels, scores, _) = EvaluationData.Pair(1000, 2, championNoise: 1);

        var result = BootstrapComparison.Run(labels, scores, (double[])scores.Clone(), 100, seed: 9);

        Assert.Equal(0, result.Wins);
        Assert.Equal(0.0, result.WinRatio);
        Assert.All(result.DeltaAucs, delta => Assert.Equal(0.0, delta));
    }

    [Fact]
    public void Percentiles_interpolate_between_order_statistics()
    {
        double[] sorted = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(0.25, BootstrapComparison.Percentile(sorted, 0.025), 12);
        Assert.Equal(9.75, BootstrapComparison.Percentile(sorted, 0.975), 12);
        Assert.Equal(5.0, BootstrapComparison.Percentile([5.0], 0.975));
    }

    [Fact]
    public void Unusable_inputs_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BootstrapComparison.Run([true, false], [0.1, 0.2], [0.1, 0.2], resamples: 0));
        var error = Assert.Throws<CtBuildException>(() => BootstrapComparison.Run([true, false], [0.1, 0.2], [0.1, double.NaN]));
        Assert.Contains("champion scores is NaN at row 1", error.Message);
    }
}
