using System.Globalization;

namespace CtBuild.Evaluation;

/// <summary>
/// The evaluation gate: promote the candidate only if it beats the champion in at least
/// <see cref="GateOptions.BootstrapRatio"/> of paired resamples of the same frozen test rows (and, if
/// set, its ΔAUC interval clears <see cref="GateOptions.MinGain"/>). Without a usable champion the
/// candidate must reach <see cref="GateOptions.MinAuc"/>.
/// </summary>
public static class Gate
{
    /// <summary>Decides; throws <see cref="CtBuildException"/> for unusable inputs (one class, NaN, length mismatch).</summary>
    /// <param name="options">Gate settings.</param>
    /// <param name="labels">Test labels.</param>
    /// <param name="candidateScores">Candidate probabilities, one per test row.</param>
    /// <param name="championScores">Champion probabilities on the same rows, or null if there is none or it cannot be scored.</param>
    /// <param name="testSnapshot">The snapshot the rows come from, recorded in the decision.</param>
    /// <param name="championUnscorable">Why a registered champion could not be scored (e.g. input signature mismatch).</param>
    public static GateDecision Decide(
        GateOptions options, bool[] labels, double[] candidateScores, double[]? championScores,
        TestSnapshotRef testSnapshot, string? championUnscorable = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(testSnapshot);
        options.Validate();
        if (championScores is not null && championUnscorable is not null)
            throw new ArgumentException(
                "Pass either champion scores or the reason the champion cannot be scored, not both.", nameof(championUnscorable));

        var (positives, negatives) = InputChecks.Check(labels, candidateScores, "candidate scores", testSnapshot);
        if (championScores is not null)
            InputChecks.Check(labels, championScores, "champion scores", testSnapshot);

        if (championScores is null)
        {
            var alone = BinaryMetrics.Compute(labels, ScoreOrder.Of(candidateScores), positives, negatives, options.Threshold);
            return AgainstFloor(options, testSnapshot, alone, championUnscorable);
        }

        var (candidateOrder, championOrder) = ScoreOrder.OfBoth(candidateScores, championScores);
        var candidate = BinaryMetrics.Compute(labels, candidateOrder, positives, negatives, options.Threshold);
        var champion = BinaryMetrics.Compute(labels, championOrder, positives, negatives, options.Threshold);
        var bootstrap = BootstrapComparison.Run(labels, candidateOrder, championOrder, positives, negatives,
            options.Resamples, options.Seed, maxParallelism: -1);
        var deLong = DeLong.Compare(labels, candidateOrder, championOrder);

        bool winsEnough = bootstrap.WinRatio >= options.BootstrapRatio;
        string winLine = $"candidate wins {Percent(bootstrap.WinRatio)} of {bootstrap.Resamples} paired resamples " +
                         $"{(winsEnough ? "≥" : "<")} {Percent(options.BootstrapRatio)} required";
        string deltaLine = $"ΔAUC {Signed(bootstrap.MeanDelta)} [{Signed(bootstrap.DeltaLower)}, {Signed(bootstrap.DeltaUpper)}]";
        string deLongLine = $"DeLong p = {PValue(deLong.P)}";
        var reasons = new List<string>
        {
            winLine,
            $"{deltaLine} (mean and 95% percentile interval of candidate − champion); " +
            $"full-set AUC {Fixed(bootstrap.CandidateAuc)} vs {Fixed(bootstrap.ChampionAuc)}",
            $"{deLongLine}, z = {deLong.Z.ToString("0.00", CultureInfo.InvariantCulture)} (reported, not gated on)",
        };
        bool gainEnough = true;
        string? gainLine = null;
        if (options.MinGain is { } minGain)
        {
            gainEnough = bootstrap.DeltaLower > minGain;
            gainLine = $"ΔAUC lower bound {Signed(bootstrap.DeltaLower)} {(gainEnough ? ">" : "≤")} required gain {Signed(minGain)}";
            reasons.Add(gainLine);
        }

        bool promote = winsEnough && gainEnough;
        string reason = string.Join("; ", new[] { winLine, deltaLine, gainLine, deLongLine }.Where(s => s is not null));
        return new GateDecision(promote, promote ? GateOutcome.Promote : GateOutcome.KeepChampion, reason, reasons,
            testSnapshot, options, candidate, champion, null, bootstrap, deLong);
    }

    private static GateDecision AgainstFloor(
        GateOptions options, TestSnapshotRef testSnapshot, BinaryMetrics candidate, string? championUnscorable)
    {
        bool promote = candidate.Auc >= options.MinAuc;
        string why = championUnscorable is null
            ? "no champion registered"
            : $"champion cannot be scored ({championUnscorable}), so gated on the floor alone";
        string floorLine = $"candidate AUC {Fixed(candidate.Auc)} {(promote ? "≥" : "<")} floor {Fixed(options.MinAuc)}";
        return new GateDecision(promote, promote ? GateOutcome.Promote : GateOutcome.Reject,
            $"{why}; {floorLine}", [why, floorLine],
            testSnapshot, options, candidate, null, championUnscorable, null, null);
    }

    private static string Percent(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture) + "%";
    private static string Fixed(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
    private static string Signed(double value) => value.ToString("+0.0000;-0.0000;+0.0000", CultureInfo.InvariantCulture);

    private static string PValue(double p) => double.IsNaN(p) ? "n/a (fewer than 2 rows in a class)"
        : p >= 0.001 ? p.ToString("0.000", CultureInfo.InvariantCulture)
        : p.ToString("0.0e+0", CultureInfo.InvariantCulture);
}
