using CtBuild.Evaluation;

namespace CtBuild.Tests.Evaluation;

public class BinaryMetricsTests
{
    [Fact]
    public void Threshold_metrics_match_a_hand_count()
    {
        // At 0.5: TP = rows 0, 1 (0.9, 0.6); FP = row 4 (0.7); FN = row 2 (0.3); TN = rows 3, 5.
        bool[] labels = [true, true, true, false, false, false];
        double[] scores = [0.9, 0.6, 0.3, 0.2, 0.7, 0.5 - 1e-9];

        var metrics = BinaryMetrics.Compute(labels, scores);

        Assert.Equal(new ConfusionMatrix(2, 1, 2, 1), metrics.Confusion);
        Assert.Equal(4.0 / 6, metrics.Accuracy, 12);
        Assert.Equal(2.0 / 3, metrics.Precision, 12);
        Assert.Equal(2.0 / 3, metrics.Recall, 12);
        Assert.Equal(2.0 / 3, metrics.F1, 12);
        Assert.Equal(EvaluationData.BruteForceAuc(labels, scores), metrics.Auc, 12);
        double logLoss = -(Math.Log(0.9) + Math.Log(0.6) + Math.Log(0.3) + Math.Log(0.8) + Math.Log(0.3) + Math.Log(0.5 + 1e-9)) / 6;
        Assert.Equal(logLoss, metrics.LogLoss, 12);
    }

    [Fact]
    public void Score_at_the_threshold_is_called_positive_and_no_positive_calls_give_precision_0()
    {
        var atThreshold = BinaryMetrics.Compute([true, false], [0.5, 0.1]);
        Assert.Equal(1, atThreshold.Confusion.TruePositives);

        var nonePositive = BinaryMetrics.Compute([true, false], [0.2, 0.1]);
        Assert.Equal(0.0, nonePositive.Precision);
        Assert.Equal(0.0, nonePositive.F1);
    }

    [Fact]
    public void Log_loss_clips_certain_misses_to_a_finite_cost()
    {
        var metrics = BinaryMetrics.Compute([true, false], [0.0, 1.0]);
        Assert.Equal(-Math.Log(BinaryMetrics.LogLossEpsilon), metrics.LogLoss, 2); // 1 − 1e-15 rounds in binary
    }

    [Fact]
    public void Roc_runs_from_origin_to_1_1_and_pr_ends_at_full_recall()
    {
        var (labels, scores) = EvaluationData.Tied(500, 11, seed: 3);
        var metrics = BinaryMetrics.Compute(labels, scores);

        Assert.Equal(new RocPoint(0, 0, null), metrics.Roc[0]);
        Assert.Equal(1.0, metrics.Roc[^1].FalsePositiveRate);
        Assert.Equal(1.0, metrics.Roc[^1].TruePositiveRate);
        Assert.Equal(12, metrics.Roc.Count); // origin + one point per distinct score
        Assert.Equal(1.0, metrics.PrecisionRecall[^1].Recall);
        Assert.Equal((double)metrics.Positives / metrics.Rows, metrics.PrecisionRecall[^1].Precision, 12);
        Assert.Equal(metrics.Auc, TrapezoidArea(metrics.Roc), 12); // every point kept: the area is exact
    }

    [Fact]
    public void Long_curves_are_downsampled_to_at_most_200_points_keeping_their_shape()
    {
        var (labels, scores, _) = EvaluationData.Pair(20_000, 4, championNoise: 1, decimals: 9);
        var metrics = BinaryMetrics.Compute(labels, scores);

        Assert.InRange(metrics.Roc.Count, 150, BinaryMetrics.MaxCurvePoints);
        Assert.InRange(metrics.PrecisionRecall.Count, 150, BinaryMetrics.MaxCurvePoints);
        Assert.Equal(new RocPoint(0, 0, null), metrics.Roc[0]);
        Assert.Equal((1.0, 1.0), (metrics.Roc[^1].FalsePositiveRate, metrics.Roc[^1].TruePositiveRate));
        Assert.Equal(metrics.Auc, TrapezoidArea(metrics.Roc), 3);
        for (int i = 1; i < metrics.Roc.Count; i++) // thresholds descend, rates never fall
        {
            Assert.True(metrics.Roc[i].TruePositiveRate >= metrics.Roc[i - 1].TruePositiveRate);
            Assert.True(metrics.Roc[i].FalsePositiveRate >= metrics.Roc[i - 1].FalsePositiveRate);
        }
    }

    [Fact]
    public void Calibration_has_10_bins_with_mean_prediction_and_observed_rate()
    {
        bool[] labels = [true, false, true, true, false];
        double[] scores = [0.05, 0.05, 0.95, 1.0, 0.55];

        var bins = BinaryMetrics.Compute(labels, scores).Calibration;

        Assert.Equal(10, bins.Count);
        Assert.Equal(new CalibrationBin(0.0, 0.1, 2, 0.05, 0.5), bins[0]);
        Assert.Equal(1, bins[5].Count);
        Assert.Equal(0.0, bins[5].ObservedRate);
        Assert.Equal(2, bins[9].Count); // 1.0 falls in the last bin
        Assert.Equal(0.975, bins[9].MeanPredicted!.Value, 12);
        Assert.Equal(1.0, bins[9].ObservedRate);
        Assert.Null(bins[3].MeanPredicted);
        Assert.Equal(5, bins.Sum(b => b.Count));
    }

    private static double TrapezoidArea(IReadOnlyList<RocPoint> roc)
    {
        double area = 0;
        for (int i = 1; i < roc.Count; i++)
            area += (roc[i].FalsePositiveRate - roc[i - 1].FalsePositiveRate)
                    * (roc[i].TruePositiveRate + roc[i - 1].TruePositiveRate) / 2;
        return area;
    }
}
