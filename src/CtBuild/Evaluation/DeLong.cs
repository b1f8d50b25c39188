namespace CtBuild.Evaluation;

/// <summary>DeLong's test result for two correlated AUCs measured on the same rows.</summary>
/// <param name="AucA">AUC of the first model (the candidate in a gate decision).</param>
/// <param name="AucB">AUC of the second model (the champion).</param>
/// <param name="Delta">AucA − AucB.</param>
/// <param name="VarianceA">Estimated variance of AucA.</param>
/// <param name="VarianceB">Estimated variance of AucB.</param>
/// <param name="Covariance">Estimated covariance of AucA and AucB.</param>
/// <param name="DeltaVariance">VarianceA + VarianceB − 2·Covariance.</param>
/// <param name="Z">Delta / sqrt(DeltaVariance); 0 when both are 0; NaN with fewer than 2 rows in a class.</param>
/// <param name="P">Two-sided p-value of Z.</param>
public sealed record DeLongResult(
    double AucA, double AucB, double Delta,
    double VarianceA, double VarianceB, double Covariance, double DeltaVariance,
    double Z, double P);

/// <summary>
/// DeLong, DeLong &amp; Clarke-Pearson (1988) paired test, with the O(n log n) algorithm of Sun &amp; Xu (2014).
/// </summary>
public static class DeLong
{
    /// <summary>Compares the AUCs of scores <paramref name="a"/> and <paramref name="b"/> on the same labelled rows.</summary>
    public static DeLongResult Compare(bool[] labels, double[] a, double[] b)
    {
        InputChecks.Check(labels, a, "scores A");
        InputChecks.Check(labels, b, "scores B");
        var (orderA, orderB) = ScoreOrder.OfBoth(a, b);
        return Compare(labels, orderA, orderB);
    }

    internal static DeLongResult Compare(bool[] labels, ScoreOrder a, ScoreOrder b)
    {
        var (aucA, positivesA, negativesA) = StructuralComponents(labels, a);
        var (aucB, positivesB, negativesB) = StructuralComponents(labels, b);
        int m = positivesA.Length, n = negativesA.Length;
        if (m < 2 || n < 2)
            return new DeLongResult(aucA, aucB, aucA - aucB, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

        var (s10aa, s10bb, s10ab) = Covariance(positivesA, positivesB);
        var (s01aa, s01bb, s01ab) = Covariance(negativesA, negativesB);
        double varianceA = s10aa / m + s01aa / n;
        double varianceB = s10bb / m + s01bb / n;
        double covariance = s10ab / m + s01ab / n;
        double delta = aucA - aucB;
        double deltaVariance = Math.Max(0.0, varianceA + varianceB - 2 * covariance);
        double z = deltaVariance > 0 ? delta / Math.Sqrt(deltaVariance)
            : delta == 0 ? 0.0 : Math.CopySign(double.PositiveInfinity, delta);
        return new DeLongResult(aucA, aucB, delta, varianceA, varianceB, covariance, deltaVariance,
            z, NormalDistribution.TwoSidedP(z));
    }

    /// <summary>
    /// Placement values: for positive i, V10 = P(negative &lt; x_i) + ½P(tie); for negative j,
    /// V01 = P(positive &gt; y_j) + ½P(tie). Sun &amp; Xu's midrank differences (tz − tx)/n and
    /// 1 − (tz − ty)/m reduce to exactly these counts, so one pass over the sorted groups suffices.
    /// Arrays are indexed by the row's ordinal within its class, so both models line up.
    /// </summary>
    internal static (double Auc, double[] Positives, double[] Negatives) StructuralComponents(bool[] labels, ScoreOrder order)
    {
        int[] ordinal = new int[labels.Length];
        int m = 0, n = 0;
        for (int i = 0; i < labels.Length; i++)
            ordinal[i] = labels[i] ? m++ : n++;

        var v10 = new double[m];
        var v01 = new double[n];
        long positivesBelow = 0, negativesBelow = 0, twiceU = 0;
        int[] rows = order.Rows;
        for (int start = 0; start < rows.Length;)
        {
            int end = order.GroupEnd(start);
            long positives = 0, negatives = 0;
            for (int k = start; k < end; k++)
                if (labels[rows[k]]) positives++; else negatives++;

            double positivePlacement = (negativesBelow + 0.5 * negatives) / n;
            double negativePlacement = (m - positivesBelow - positives + 0.5 * positives) / m;
            for (int k = start; k < end; k++)
            {
                int row = rows[k];
                if (labels[row]) v10[ordinal[row]] = positivePlacement;
                else v01[ordinal[row]] = negativePlacement;
            }
            twiceU += positives * (2 * negativesBelow + negatives);
            positivesBelow += positives;
            negativesBelow += negatives;
            start = end;
        }
        return (Auc.FromTwiceU(twiceU, m, n), v10, v01);
    }

    /// <summary>Sample covariance matrix (denominator count − 1) of two equally long series.</summary>
    internal static (double Vxx, double Vyy, double Vxy) Covariance(double[] x, double[] y)
    {
        double meanX = 0, meanY = 0;
        for (int i = 0; i < x.Length; i++) { meanX += x[i]; meanY += y[i]; }
        meanX /= x.Length;
        meanY /= y.Length;
        double sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - meanX, dy = y[i] - meanY;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
        }
        int df = x.Length - 1;
        return (sxx / df, syy / df, sxy / df);
    }
}
