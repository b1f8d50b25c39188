using System.Globalization;

namespace CtBuild.Evaluation;

/// <summary>
/// The evaluation gate. Against a champion it checks, in order: the rule (the candidate wins at least
/// <see cref="GateOptions.BootstrapRatio"/> of paired resamples, i.e. the one-sided lower bound of ΔAUC at that
/// confidence is above 0), the repeated-retrain guard, and the optional calibration and segment criteria;
/// it promotes when none blocks. Without a usable champion the candidate must reach <see cref="GateOptions.MinAuc"/>.
/// </summary>
public static class Gate
{
    /// <summary>Decides; throws <see cref="CtBuildException"/> for unusable inputs (too few of a class, NaN, length mismatch).</summary>
    /// <param name="options">Gate settings.</param>
    /// <param name="labels">Test labels.</param>
    /// <param name="candidateScores">Candidate probabilities, one per test row.</param>
    /// <param name="championScores">Champion probabilities on the same rows, or null if there is none or it cannot be scored.</param>
    /// <param name="testSnapshot">The snapshot the rows come from, recorded in the decision.</param>
    /// <param name="championUnscorable">Why a registered champion could not be scored (e.g. input signature mismatch).</param>
    /// <param name="segments">Values of each <see cref="GateOptions.Segments"/> column, one per test row.</param>
    public static GateDecision Decide(
        GateOptions options, bool[] labels, double[] candidateScores, double[]? championScores,
        TestSnapshotRef testSnapshot, string? championUnscorable = null,
        IReadOnlyDictionary<string, string?[]>? segments = null)
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
        if (positives < options.MinClassCount || negatives < options.MinClassCount)
            throw new CtBuildException(
                $"The gate cannot decide: the {testSnapshot} has {positives:N0} positive and {negatives:N0} negative rows, " +
                $"and it needs at least {options.MinClassCount:N0} of each (evaluate.minClassCount) for an AUC, its interval " +
                "and DeLong's test to mean anything. Add labelled data, give split.test a larger share, or lower evaluate.minClassCount.");

        if (championScores is null)
        {
            var alone = BinaryMetrics.Compute(labels, ScoreOrder.Of(candidateScores), positives, negatives, options.Threshold);
            return AgainstFloor(options, testSnapshot, alone, championUnscorable);
        }

        var (candidateOrder, championOrder) = ScoreOrder.OfBoth(candidateScores, championScores);
        var candidate = BinaryMetrics.Compute(labels, candidateOrder, positives, negatives, options.Threshold);
        var champion = BinaryMetrics.Compute(labels, championOrder, positives, negatives, options.Threshold);
        var bootstrap = BootstrapComparison.Run(labels, candidateOrder, championOrder, positives, negatives,
            options.Resamples, (ulong)options.Seed, maxParallelism: -1);
        var deLong = DeLong.Compare(labels, candidateOrder, championOrder);
        var delta = AucComparison.Of(bootstrap, deLong, options.BootstrapRatio);

        var criteria = new List<GateCriterion> { Rule(options, bootstrap, delta), RetrainGuard.Check(options, delta) };
        CalibrationResult? calibration = null;
        if (options.Calibration is { } cal)
        {
            calibration = CalibrationComparison.Run(cal.Metric, labels, candidateScores, championScores,
                options.Resamples, (ulong)options.Seed, options.BootstrapRatio);
            criteria.Add(Calibration(options, cal, calibration));
        }
        IReadOnlyList<SegmentResult> segmentResults = [];
        if (options.Segments.Count > 0)
        {
            segmentResults = SegmentComparison.Run(options, labels, candidateScores, championScores,
                segments ?? throw new ArgumentException("The options name segments but no segment values were given.", nameof(segments)));
            criteria.AddRange(segmentResults.Select(s => Segment(options, s)));
        }

        var blocking = criteria.FirstOrDefault(c => c.Verdict == CriterionVerdict.Block);
        bool promote = blocking is null;
        string figures = $"ΔAUC {Signed(delta.Observed)} on the full test set (bootstrap mean {Signed(delta.BootstrapMean)}); " +
                         $"AUC {Fixed(candidate.Auc)} vs {Fixed(champion.Auc)}; two-sided 95% interval [{Signed(delta.TwoSidedLower)}, {Signed(delta.TwoSidedUpper)}]; " +
                         $"DeLong z = {deLong.Z.ToString("0.00", CultureInfo.InvariantCulture)}, one-sided p = {PValue(delta.DeLongOneSidedP)}, two-sided p = {PValue(delta.DeLongTwoSidedP)}";
        string power = delta.StandardError == 0
            ? "power: the two models rank the test rows alike (SE of ΔAUC 0), so no resample can tell them apart"
            : $"power: a true gain under {Signed(delta.MinimumDetectable)} can't be seen with 80% probability on " +
                       $"{labels.Length:N0} test rows ({positives:N0} positive) at these models' correlation (SE of ΔAUC {delta.StandardError.ToString("0.0000", CultureInfo.InvariantCulture)})";
        string headline = $"ΔAUC {Signed(delta.Observed)} (bootstrap mean {Signed(delta.BootstrapMean)}), " +
                          $"one-sided {Level(options.BootstrapRatio)} lower bound {Signed(delta.LowerBound)}, p = {PValue(delta.OneSidedP)}";
        string reason = promote
            ? $"promoted: {criteria.Count(c => c.Verdict == CriterionVerdict.Pass)} criteria passed; {headline}; DeLong one-sided p = {PValue(delta.DeLongOneSidedP)}"
            : $"kept champion: {blocking!.Name} blocked ({blocking.Line}); {headline}" + (delta.StandardError == 0 ? "; the two models rank the test rows alike"
                : $"; a gain under {Signed(delta.MinimumDetectable)} can't be seen with 80% probability on {labels.Length:N0} test rows");
        var reasons = criteria.Select(c => $"{Verdict(c.Verdict)} {c.Line}").Append(figures).Append(power).ToList();
        return new GateDecision(promote, promote ? GateOutcome.Promote : GateOutcome.KeepChampion, reason, reasons,
            testSnapshot, options, candidate, champion, null, bootstrap, deLong)
        {
            Delta = delta, Criteria = criteria, DecidedBy = blocking?.Name ?? GateDecision.AllPassed,
            Calibration = calibration, Segments = segmentResults,
        };
    }

    static GateCriterion Rule(GateOptions options, BootstrapResult b, AucComparison d)
    {
        bool pass = d.RulePasses(b);
        return new GateCriterion("rule", pass ? CriterionVerdict.Pass : CriterionVerdict.Block,
            $"rule: candidate wins {Percent(b.WinRatio)} of {b.Resamples:N0} paired resamples {(pass ? "≥" : "<")} {Percent(options.BootstrapRatio)} required: " +
            $"one-sided {Level(options.BootstrapRatio)} lower bound of ΔAUC {Signed(d.LowerBound)} {(pass ? ">" : "≤")} 0, " +
            $"one-sided p = {PValue(d.OneSidedP)} {(pass ? "≤" : ">")} {PValue(options.Alpha)}");
    }

    static GateCriterion Calibration(GateOptions options, CalibrationOptions cal, CalibrationResult c)
    {
        bool worse = c.LowerBound > cal.Margin;
        string name = cal.Metric == CalibrationMetric.Brier ? "Brier score" : "ECE";
        return new GateCriterion("calibration", worse ? CriterionVerdict.Block : CriterionVerdict.Pass,
            $"calibration ({name}, lower is better): candidate {Fixed(c.Candidate)} vs champion {Fixed(c.Champion)}, difference {Signed(c.Difference)}, " +
            $"one-sided {Level(options.BootstrapRatio)} lower bound {Signed(c.LowerBound)} {(worse ? ">" : "≤")} margin {Signed(cal.Margin)}: {(worse ? "worse" : "not worse")}");
    }

    static GateCriterion Segment(GateOptions options, SegmentResult s)
    {
        string name = $"segment {s.Column} = {s.Value}";
        string size = $"{s.Rows:N0} rows, {s.Positives:N0} positive";
        if (!s.Gated)
            return new GateCriterion(name, CriterionVerdict.Reported,
                $"{name} ({size}): ΔAUC {(s.Delta is { } d ? Signed(d) : "n/a (one class)")}, reported only " +
                $"(gated from {options.MinSegmentRows:N0} rows and {options.MinClassCount:N0} of each class)");
        bool worse = s.Worse(options.SegmentMargin);
        return new GateCriterion(name, worse ? CriterionVerdict.Block : CriterionVerdict.Pass,
            $"{name} ({size}): ΔAUC {Signed(s.Delta!.Value)} [{Signed(s.TwoSidedLower!.Value)}, {Signed(s.TwoSidedUpper!.Value)}], " +
            $"one-sided {Level(options.BootstrapRatio)} upper bound {Signed(s.UpperBound!.Value)} {(worse ? "<" : "≥")} {Signed(-options.SegmentMargin)}: {(worse ? "worse" : "not worse")}");
    }

    static GateDecision AgainstFloor(
        GateOptions options, TestSnapshotRef testSnapshot, BinaryMetrics candidate, string? championUnscorable)
    {
        bool promote = candidate.Auc >= options.MinAuc;
        string why = championUnscorable is null
            ? "no champion registered"
            : $"champion cannot be scored ({championUnscorable}), so gated on the floor alone";
        string floorLine = $"candidate AUC {Fixed(candidate.Auc)} {(promote ? "≥" : "<")} floor {Fixed(options.MinAuc)}";
        var floor = new GateCriterion("floor", promote ? CriterionVerdict.Pass : CriterionVerdict.Block, $"floor: {floorLine}");
        return new GateDecision(promote, promote ? GateOutcome.Promote : GateOutcome.Reject,
            $"{why}; {floorLine}", [why, $"{Verdict(floor.Verdict)} {floor.Line}"],
            testSnapshot, options, candidate, null, championUnscorable, null, null)
        {
            Criteria = [floor], DecidedBy = "floor",
        };
    }

    static string Verdict(CriterionVerdict v) => v switch
    {
        CriterionVerdict.Pass => "[pass]", CriterionVerdict.Block => "[block]", _ => "[reported]",
    };

    internal static string Percent(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture) + "%";
    internal static string Level(double confidence) => (100 * confidence).ToString("0.##", CultureInfo.InvariantCulture) + "%";
    internal static string Fixed(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);
    internal static string Signed(double value) => double.IsNegativeInfinity(value) ? "−∞"
        : value.ToString("+0.0000;-0.0000;+0.0000", CultureInfo.InvariantCulture);

    /// <summary>Three decimals from 0.01, four from 0.0001, then scientific: 0.0025 stays distinct from 0.003.</summary>
    internal static string PValue(double p) => double.IsNaN(p) ? "n/a (fewer than 2 rows in a class)"
        : p >= 0.01 || p == 0 ? p.ToString("0.000", CultureInfo.InvariantCulture)
        : p >= 0.0001 ? p.ToString("0.0000", CultureInfo.InvariantCulture)
        : p.ToString("0.0e+0", CultureInfo.InvariantCulture);
}
