namespace CtBuild.Evaluation;

/// <summary>Counts of a binary classifier's decisions at one threshold (score ≥ threshold is positive).</summary>
public sealed record ConfusionMatrix(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives);

/// <summary>A point of the ROC curve: rates when rows scoring ≥ <paramref name="Threshold"/> are called positive.</summary>
/// <param name="Threshold">Null for the origin, where nothing is called positive.</param>
public sealed record RocPoint(double FalsePositiveRate, double TruePositiveRate, double? Threshold);

/// <summary>A point of the precision-recall curve at <paramref name="Threshold"/> (score ≥ threshold is positive).</summary>
public sealed record PrecisionRecallPoint(double Recall, double Precision, double Threshold);

/// <summary>One of 10 equal-width bins of predicted probability; the two rates are null for an empty bin.</summary>
public sealed record CalibrationBin(double Lower, double Upper, long Count, double? MeanPredicted, double? ObservedRate);

/// <summary>
/// Metrics of a binary classifier whose scores are probabilities. Precision (and so F1) is 0 when
/// nothing is called positive. Curves are downsampled to at most <see cref="MaxCurvePoints"/> points
/// spread evenly along the curve's length, which keeps its corners within a fraction of a percent.
/// </summary>
public sealed record BinaryMetrics(
    int Rows, int Positives, int Negatives, double Threshold,
    double Auc, double LogLoss, double Accuracy, double Precision, double Recall, double F1,
    ConfusionMatrix Confusion,
    IReadOnlyList<RocPoint> Roc,
    IReadOnlyList<PrecisionRecallPoint> PrecisionRecall,
    IReadOnlyList<CalibrationBin> Calibration)
{
    /// <summary>Most points kept per curve.</summary>
    public const int MaxCurvePoints = 200;

    /// <summary>Log-loss clips probabilities to [ε, 1 − ε] with this ε, so a confident miss costs a finite 34.5.</summary>
    public const double LogLossEpsilon = 1e-15;

    /// <summary>
    /// Computes all metrics; <paramref name="scores"/> are probabilities of the positive class
    /// (values outside [0, 1] are clipped for log-loss and calibration).
    /// </summary>
    public static BinaryMetrics Compute(bool[] labels, double[] scores, double threshold = 0.5)
    {
        var (positives, negatives) = InputChecks.Check(labels, scores, "scores");
        return Compute(labels, ScoreOrder.Of(scores), positives, negatives, threshold);
    }

    internal static BinaryMetrics Compute(bool[] labels, ScoreOrder order, int positives, int negatives, double threshold)
    {
        double[] scores = order.ScoresByRow;
        long tp = 0, fp = 0;
        double logLoss = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            bool calledPositive = scores[i] >= threshold;
            if (calledPositive && labels[i]) tp++;
            if (calledPositive && !labels[i]) fp++;
            double p = Math.Clamp(scores[i], LogLossEpsilon, 1 - LogLossEpsilon);
            logLoss -= labels[i] ? Math.Log(p) : Math.Log(1 - p);
        }
        var confusion = new ConfusionMatrix(tp, fp, negatives - fp, positives - tp);
        double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        double recall = (double)tp / positives;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);

        return new BinaryMetrics(labels.Length, positives, negatives, threshold,
            CtBuild.Evaluation.Auc.FromTwiceU(order.TwiceU(labels), positives, negatives),
            logLoss / labels.Length,
            (double)(tp + confusion.TrueNegatives) / labels.Length,
            precision, recall, f1, confusion,
            RocCurve(labels, order, positives, negatives),
            PrecisionRecallCurve(labels, order, positives),
            CalibrationBins(labels, scores));
    }

    // Walks the tie groups from the highest score down; each group is one threshold.
    private static IEnumerable<(long TruePositives, long FalsePositives, double Threshold)> Thresholds(bool[] labels, ScoreOrder order)
    {
        long tp = 0, fp = 0;
        for (int end = order.Rows.Length; end > 0;)
        {
            int start = end - 1;
            while (start > 0 && order.Sorted[start - 1] == order.Sorted[end - 1]) start--;
            for (int k = start; k < end; k++)
                if (labels[order.Rows[k]]) tp++; else fp++;
            yield return (tp, fp, order.Sorted[start]);
            end = start;
        }
    }

    private static IReadOnlyList<RocPoint> RocCurve(bool[] labels, ScoreOrder order, int positives, int negatives)
    {
        var points = new List<RocPoint> { new(0, 0, null) };
        foreach (var (tp, fp, threshold) in Thresholds(labels, order))
            points.Add(new RocPoint((double)fp / negatives, (double)tp / positives, threshold));
        return CurveShape.Keep(points, p => (p.FalsePositiveRate, p.TruePositiveRate), MaxCurvePoints);
    }

    private static IReadOnlyList<PrecisionRecallPoint> PrecisionRecallCurve(bool[] labels, ScoreOrder order, int positives)
    {
        var points = new List<PrecisionRecallPoint>();
        foreach (var (tp, fp, threshold) in Thresholds(labels, order))
            points.Add(new PrecisionRecallPoint((double)tp / positives, (double)tp / (tp + fp), threshold));
        return CurveShape.Keep(points, p => (p.Recall, p.Precision), MaxCurvePoints);
    }

    private static IReadOnlyList<CalibrationBin> CalibrationBins(bool[] labels, double[] scores)
    {
        const int bins = 10;
        var count = new long[bins];
        var predicted = new double[bins];
        var observed = new long[bins];
        for (int i = 0; i < scores.Length; i++)
        {
            double p = Math.Clamp(scores[i], 0, 1);
            int bin = Math.Min((int)(p * bins), bins - 1);
            count[bin]++;
            predicted[bin] += p;
            if (labels[i]) observed[bin]++;
        }
        var result = new CalibrationBin[bins];
        for (int b = 0; b < bins; b++)
            result[b] = new CalibrationBin((double)b / bins, (double)(b + 1) / bins, count[b],
                count[b] == 0 ? null : predicted[b] / count[b],
                count[b] == 0 ? null : (double)observed[b] / count[b]);
        return result;
    }
}
