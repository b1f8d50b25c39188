namespace CtBuild.Evaluation;

/// <summary>ΔAUC on one segment (rows with one value of one column).</summary>
/// <param name="Column">The segment column, e.g. <c>sex</c>.</param>
/// <param name="Value">The value, <c>(missing)</c> for null.</param>
/// <param name="Gated">Large enough to block a promotion; otherwise reported only.</param>
/// <param name="Delta">Observed ΔAUC on the segment's rows; null when the segment lacks a class.</param>
/// <param name="UpperBound">One-sided upper bound of ΔAUC at the gate's confidence (gated segments).</param>
/// <param name="TwoSidedLower">2.5th percentile of the segment's bootstrap ΔAUC (gated segments).</param>
/// <param name="TwoSidedUpper">97.5th percentile (gated segments).</param>
public sealed record SegmentResult(
    string Column, string Value, int Rows, int Positives, bool Gated,
    double? Delta, double? UpperBound, double? TwoSidedLower, double? TwoSidedUpper)
{
    /// <summary>A gated segment on which the candidate is worse than −<paramref name="margin"/> at the gate's confidence.</summary>
    public bool Worse(double margin) => Gated && UpperBound < -margin;
}

/// <summary>Per-segment paired bootstrap of ΔAUC, with the gate's resamples and seed.</summary>
public static class SegmentComparison
{
    public const string Missing = "(missing)";

    /// <summary>One result per (column, value), columns in the given order, values by descending size.</summary>
    public static IReadOnlyList<SegmentResult> Run(
        GateOptions options, bool[] labels, double[] candidate, double[] champion,
        IReadOnlyDictionary<string, string?[]> segments)
    {
        var results = new List<SegmentResult>();
        foreach (var column in options.Segments)
        {
            if (!segments.TryGetValue(column, out var values))
                throw new ArgumentException($"No values for segment column '{column}'.", nameof(segments));
            if (values.Length != labels.Length)
                throw new ArgumentException($"Segment column '{column}' has {values.Length} values for {labels.Length} rows.", nameof(segments));
            var groups = Enumerable.Range(0, values.Length).GroupBy(i => values[i] ?? Missing, StringComparer.Ordinal)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal);
            foreach (var group in groups)
                results.Add(One(options, column, group.Key, group.ToArray(), labels, candidate, champion));
        }
        return results;
    }

    static SegmentResult One(GateOptions options, string column, string value, int[] rows,
        bool[] labels, double[] candidate, double[] champion)
    {
        var l = rows.Select(i => labels[i]).ToArray();
        var c = rows.Select(i => candidate[i]).ToArray();
        var h = rows.Select(i => champion[i]).ToArray();
        int positives = l.Count(x => x), negatives = l.Length - positives;
        if (positives == 0 || negatives == 0)
            return new SegmentResult(column, value, rows.Length, positives, false, null, null, null, null);
        double delta = Auc.Compute(l, c) - Auc.Compute(l, h);
        bool gated = rows.Length >= options.MinSegmentRows && positives >= options.MinClassCount && negatives >= options.MinClassCount;
        if (!gated)
            return new SegmentResult(column, value, rows.Length, positives, false, delta, null, null, null);
        var b = BootstrapComparison.Run(l, c, h, options.Resamples, (ulong)options.Seed);
        var sorted = b.DeltaAucs.ToArray();
        Array.Sort(sorted);
        // Mirror of the AUC lower bound: the order statistic at the rule's confidence from above.
        int index = Math.Clamp((int)Math.Ceiling(options.BootstrapRatio * b.Resamples) - 1, 0, b.Resamples - 1);
        return new SegmentResult(column, value, rows.Length, positives, true, delta, sorted[index], b.DeltaLower, b.DeltaUpper);
    }
}
