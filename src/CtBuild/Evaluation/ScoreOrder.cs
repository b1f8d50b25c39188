namespace CtBuild.Evaluation;

/// <summary>
/// Rows sorted by ascending score, computed once and shared by AUC, DeLong, curves and the bootstrap.
/// Equal scores are adjacent; <see cref="GroupEnd"/> finds the end of a tie group.
/// </summary>
internal sealed class ScoreOrder
{
    private ScoreOrder(double[] scoresByRow, int[] rows, double[] sorted)
        => (ScoresByRow, Rows, Sorted) = (scoresByRow, rows, sorted);

    /// <summary>The scores as given, indexed by row (not copied).</summary>
    public double[] ScoresByRow { get; }

    /// <summary>Row indices in ascending score order.</summary>
    public int[] Rows { get; }

    /// <summary>Scores in the same order as <see cref="Rows"/>.</summary>
    public double[] Sorted { get; }

    public static ScoreOrder Of(double[] scores)
    {
        var sorted = (double[])scores.Clone();
        var rows = new int[scores.Length];
        for (int i = 0; i < rows.Length; i++) rows[i] = i;
        Array.Sort(sorted, rows);
        return new ScoreOrder(scores, rows, sorted);
    }

    /// <summary>Sorts two score arrays at once (two cores, half the wait for a large test set).</summary>
    public static (ScoreOrder First, ScoreOrder Second) OfBoth(double[] first, double[] second)
    {
        ScoreOrder? a = null, b = null;
        Parallel.Invoke(() => a = Of(first), () => b = Of(second));
        return (a!, b!);
    }

    /// <summary>One past the last position whose score equals the score at <paramref name="start"/>.</summary>
    public int GroupEnd(int start)
    {
        int end = start + 1;
        while (end < Sorted.Length && Sorted[end] == Sorted[start]) end++;
        return end;
    }

    /// <summary>
    /// Twice the Mann-Whitney U of positives over negatives (ties count half, so 2U is an exact integer).
    /// </summary>
    public long TwiceU(bool[] labels)
    {
        long twiceU = 0, negativesBelow = 0;
        for (int start = 0; start < Rows.Length;)
        {
            int end = GroupEnd(start);
            long positives = 0, negatives = 0;
            for (int k = start; k < end; k++)
                if (labels[Rows[k]]) positives++; else negatives++;
            twiceU += positives * (2 * negativesBelow + negatives);
            negativesBelow += negatives;
            start = end;
        }
        return twiceU;
    }
}
