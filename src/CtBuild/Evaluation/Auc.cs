namespace CtBuild.Evaluation;

/// <summary>Area under the ROC curve.</summary>
public static class Auc
{
    /// <summary>
    /// AUC as the Mann-Whitney U statistic: the probability that a random positive scores above a random
    /// negative, ties counted half. O(n log n). Throws when a class is missing or a score is NaN.
    /// </summary>
    public static double Compute(bool[] labels, double[] scores)
    {
        var (positives, negatives) = InputChecks.Check(labels, scores, "scores");
        return FromTwiceU(ScoreOrder.Of(scores).TwiceU(labels), positives, negatives);
    }

    internal static double FromTwiceU(long twiceU, long positives, long negatives)
        => twiceU / (2.0 * positives * negatives);
}
