using System.Globalization;
using CtBuild.Evaluation;

namespace CtBuild.Splitting;

/// <summary>Rows and positives in one split.</summary>
public sealed record SplitCount(string Split, long Rows, long Positives)
{
    public double PositiveRate => Rows == 0 ? 0 : (double)Positives / Rows;
}

/// <summary>One split whose positive rate differs from the other splits' by more than chance allows.</summary>
public sealed record SplitImbalance(string Split, double Rate, double OthersRate, double Z, double P)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Split} has {Rate * 100:0.0}% positives vs {OthersRate * 100:0.0}% in the other splits (z = {Z:0.00}, p = {P:0.##E+0})");
}

/// <summary>
/// Checks that a hash split did not skew the label: each split's positive rate against the rest pooled, with a
/// two-proportion z-test (pooled variance). A split is flagged when its two-sided p-value, Bonferroni-corrected for
/// the number of splits, is below <see cref="Alpha"/> = 0.001 — for three splits |z| above about 3.59. A split by a
/// label-blind hash of independent rows passes this 999 times in 1000; many duplicate rows sharing a split (no key)
/// make chance differences larger and can trip it.
/// </summary>
public static class SplitBalance
{
    public const double Alpha = 0.001;

    public static IReadOnlyList<SplitImbalance> Check(IReadOnlyList<SplitCount> counts)
    {
        var flagged = new List<SplitImbalance>();
        var totalRows = counts.Sum(c => c.Rows);
        var totalPositives = counts.Sum(c => c.Positives);
        foreach (var c in counts)
        {
            var (n1, x1) = (c.Rows, c.Positives);
            var (n2, x2) = (totalRows - n1, totalPositives - x1);
            if (n1 == 0 || n2 == 0) continue;
            var pooled = (double)(x1 + x2) / (n1 + n2);
            var se = Math.Sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
            if (se == 0) continue; // one class only: nothing to compare
            var (rate, others) = ((double)x1 / n1, (double)x2 / n2);
            var z = (rate - others) / se;
            var p = NormalDistribution.TwoSidedP(z);
            if (p * counts.Count < Alpha) flagged.Add(new SplitImbalance(c.Split, rate, others, z, p));
        }
        return flagged;
    }
}
