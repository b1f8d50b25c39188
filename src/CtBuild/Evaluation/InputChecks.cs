namespace CtBuild.Evaluation;

/// <summary>Checks shared by every metric: same length, no NaN, both classes present.</summary>
internal static class InputChecks
{
    /// <summary>Returns the class counts; throws with the row, the split and what to do when the input is unusable.</summary>
    public static (int Positives, int Negatives) Check(
        bool[] labels, double[] scores, string scoresName, TestSnapshotRef? snapshot = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores, scoresName);
        string where = snapshot?.ToString() ?? "the evaluated rows";
        if (labels.Length != scores.Length)
            throw new ArgumentException(
                $"{scoresName} has {scores.Length:N0} rows but the labels have {labels.Length:N0} ({where}): " +
                "score every row of the same snapshot, in the same order.");

        for (int i = 0; i < scores.Length; i++)
            if (double.IsNaN(scores[i]))
                throw new CtBuildException(
                    $"{scoresName} is NaN at row {i:N0} of {scores.Length:N0} ({where}): the model produced no score " +
                    "for that row. Check that row's features for missing or out-of-range values.");

        int positives = 0;
        foreach (bool label in labels)
            if (label) positives++;
        int negatives = labels.Length - positives;
        if (labels.Length == 0)
            throw new CtBuildException($"AUC is undefined: {where} has no rows. Check the split stage's output.");
        if (positives == 0 || negatives == 0)
            throw new CtBuildException(
                $"AUC is undefined: {where} has only {(positives == 0 ? "negative" : "positive")} labels " +
                $"({labels.Length:N0} rows). Evaluate on a split that has both classes: check the label column and " +
                "the split stage (too few rows, or a split key correlated with the label).");
        return (positives, negatives);
    }
}
