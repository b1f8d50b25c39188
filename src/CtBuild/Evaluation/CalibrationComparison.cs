namespace CtBuild.Evaluation;

/// <summary>Paired bootstrap of a calibration figure's difference, candidate − champion (lower is better calibrated).</summary>
/// <param name="Candidate">The candidate's figure on the full test set.</param>
/// <param name="Champion">The champion's figure on the full test set.</param>
/// <param name="LowerBound">One-sided lower bound of the difference at the gate's confidence.</param>
/// <param name="TwoSidedLower">2.5th percentile of the difference.</param>
/// <param name="TwoSidedUpper">97.5th percentile of the difference.</param>
public sealed record CalibrationResult(
    CalibrationMetric Metric, double Candidate, double Champion, double LowerBound, double TwoSidedLower, double TwoSidedUpper)
{
    /// <summary>Candidate − champion on the full test set.</summary>
    public double Difference => Candidate - Champion;
}

/// <summary>
/// Brier score and expected calibration error (10 equal-width bins, weighted by rows) of two models on the same
/// rows, with the same stratified resamples as the AUC bootstrap (same seed, same draws).
/// </summary>
public static class CalibrationComparison
{
    const int Bins = 10;

    /// <summary>Compares the calibration of the two models on the same labelled rows.</summary>
    public static CalibrationResult Run(
        CalibrationMetric metric, bool[] labels, double[] candidate, double[] champion, int resamples, ulong seed, double confidence)
    {
        InputChecks.Check(labels, candidate, "candidate scores");
        InputChecks.Check(labels, champion, "champion scores");
        var resampler = StratifiedResampler.InOrder(labels, ScoreOrder.Of(candidate), seed);
        var all = Enumerable.Range(0, labels.Length).ToArray();
        var deltas = new double[resamples];
        Parallel.For(0, resamples, r =>
        {
            int[] rows = resampler.DrawRows(r);
            deltas[r] = Figure(metric, labels, candidate, rows) - Figure(metric, labels, champion, rows);
        });
        Array.Sort(deltas);
        // The order statistic the gate's bound uses for AUC, mirrored: the (1 − confidence) quantile from below.
        int index = Math.Clamp(resamples - (int)Math.Ceiling(confidence * resamples), 0, resamples - 1);
        return new CalibrationResult(metric, Figure(metric, labels, candidate, all), Figure(metric, labels, champion, all),
            deltas[index], BootstrapComparison.Percentile(deltas, 0.025), BootstrapComparison.Percentile(deltas, 0.975));
    }

    /// <summary>The figure over <paramref name="rows"/> (with repeats), probabilities clipped to [0, 1].</summary>
    public static double Figure(CalibrationMetric metric, bool[] labels, double[] scores, int[] rows) =>
        metric == CalibrationMetric.Brier ? Brier(labels, scores, rows) : Ece(labels, scores, rows);

    static double Brier(bool[] labels, double[] scores, int[] rows)
    {
        double sum = 0;
        foreach (int i in rows)
        {
            double e = Math.Clamp(scores[i], 0, 1) - (labels[i] ? 1 : 0);
            sum += e * e;
        }
        return sum / rows.Length;
    }

    static double Ece(bool[] labels, double[] scores, int[] rows)
    {
        Span<double> predicted = stackalloc double[Bins], observed = stackalloc double[Bins];
        Span<int> count = stackalloc int[Bins];
        foreach (int i in rows)
        {
            double p = Math.Clamp(scores[i], 0, 1);
            int bin = Math.Min((int)(p * Bins), Bins - 1);
            count[bin]++;
            predicted[bin] += p;
            if (labels[i]) observed[bin]++;
        }
        double ece = 0;
        for (int b = 0; b < Bins; b++)
            if (count[b] > 0) ece += Math.Abs(predicted[b] - observed[b]) / rows.Length;
        return ece;
    }
}
