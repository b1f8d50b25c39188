namespace CtBuild.Evaluation;

/// <summary>
/// The figures of ΔAUC = candidate − champion that the gate prints, each matching the rule it belongs to.
/// </summary>
/// <param name="Observed">ΔAUC on the full test set: the headline figure.</param>
/// <param name="BootstrapMean">Mean ΔAUC over the resamples, shown beside it.</param>
/// <param name="Confidence">The rule's one-sided confidence (the required win ratio, e.g. 0.95).</param>
/// <param name="RequiredWins">Fewest resamples the candidate must win: the smallest w with w / resamples ≥ Confidence.</param>
/// <param name="LowerBound">One-sided lower bound of ΔAUC at <paramref name="Confidence"/>: the order statistic that is
/// above 0 exactly when the candidate wins at least <paramref name="RequiredWins"/> resamples.</param>
/// <param name="OneSidedP">Bootstrap one-sided p: the fraction of resamples the candidate does not win. Promotion by the rule ⇔ p ≤ 1 − Confidence.</param>
/// <param name="TwoSidedLower">2.5th percentile of ΔAUC (secondary).</param>
/// <param name="TwoSidedUpper">97.5th percentile of ΔAUC (secondary).</param>
/// <param name="DeLongOneSidedP">DeLong's p for "candidate better", P(Z ≥ z).</param>
/// <param name="DeLongTwoSidedP">DeLong's two-sided p (secondary).</param>
/// <param name="StandardError">Standard error of ΔAUC: DeLong's, or the bootstrap's standard deviation when DeLong's is 0.</param>
/// <param name="MinimumDetectable">Smallest true ΔAUC the rule detects with 80% probability on this test set:
/// (z(Confidence) + z(0.8)) · StandardError, which reflects its size, class balance and the models' correlation.</param>
public sealed record AucComparison(
    double Observed, double BootstrapMean, double Confidence, int RequiredWins, double LowerBound, double OneSidedP,
    double TwoSidedLower, double TwoSidedUpper, double DeLongOneSidedP, double DeLongTwoSidedP,
    double StandardError, double MinimumDetectable)
{
    /// <summary>The power at which <see cref="MinimumDetectable"/> is stated.</summary>
    public const double Power = 0.8;

    /// <summary>The rule holds: at least <see cref="RequiredWins"/> wins, equivalently <see cref="LowerBound"/> &gt; 0.</summary>
    public bool RulePasses(BootstrapResult bootstrap) => bootstrap.Wins >= RequiredWins;

    /// <summary>Gain detectable with probability <paramref name="power"/> by a one-sided test at level <paramref name="alpha"/>, for a standard error.</summary>
    public static double Detectable(double standardError, double alpha, double power) =>
        (NormalDistribution.Quantile(1 - alpha) + NormalDistribution.Quantile(power)) * standardError;

    /// <summary>The figures of one bootstrap and DeLong comparison at the rule's confidence.</summary>
    public static AucComparison Of(BootstrapResult bootstrap, DeLongResult deLong, double confidence)
    {
        int resamples = bootstrap.Resamples;
        int required = (int)Math.Ceiling(confidence * resamples);
        while (required > 0 && (double)(required - 1) / resamples >= confidence) required--;
        while ((double)required / resamples < confidence) required++;
        var sorted = bootstrap.DeltaAucs.ToArray();
        Array.Sort(sorted);
        // With k resamples not won, sorted[k − 1] ≤ 0 < sorted[k]; so sorted[R − required] > 0 ⇔ k ≤ R − required.
        double lower = required == 0 ? double.NegativeInfinity : sorted[resamples - required];
        double sd = StandardDeviation(sorted, bootstrap.MeanDelta);
        double se = deLong.DeltaVariance > 0 ? Math.Sqrt(deLong.DeltaVariance) : sd;
        return new AucComparison(
            bootstrap.CandidateAuc - bootstrap.ChampionAuc, bootstrap.MeanDelta, confidence, required, lower,
            (double)(resamples - bootstrap.Wins) / resamples, bootstrap.DeltaLower, bootstrap.DeltaUpper,
            double.IsNaN(deLong.Z) ? double.NaN : NormalDistribution.UpperTailP(deLong.Z), deLong.P,
            se, Detectable(se, 1 - confidence, Power));
    }

    static double StandardDeviation(double[] values, double mean)
    {
        if (values.Length < 2) return 0;
        double sum = 0;
        foreach (double v in values) sum += (v - mean) * (v - mean);
        return Math.Sqrt(sum / (values.Length - 1));
    }
}
