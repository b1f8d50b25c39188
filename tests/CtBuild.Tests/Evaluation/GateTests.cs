using CtBuild.Evaluation;
using CtBuild.Evaluation.Benchmarks;

namespace CtBuild.Tests.Evaluation;

public class GateTests
{
    private static readonly TestSnapshotRef Snapshot = new("features", 7);
    private static readonly GateOptions Options = new() { BootstrapRatio = 0.95, Resamples = 300, Seed = 1, MinAuc = 0.7 };
    private static readonly GateOptions RuleOnly = Options with { Guard = new RetrainGuardOptions { Kind = RetrainGuardKind.None } };

    [Fact]
    public void A_clearly_better_candidate_is_promoted_with_the_one_sided_figures_in_the_reason()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(3000, 1, championNoise: 2.0);

        var decision = Gate.Decide(Options, labels, candidate, champion, Snapshot);

        Assert.True(decision.Promote);
        Assert.Equal(GateOutcome.Promote, decision.Outcome);
        Assert.Matches(@"^promoted: 2 criteria passed; ΔAUC \+0\.\d{4} \(bootstrap mean \+0\.\d{4}\), one-sided 95% lower bound \+0\.\d{4}, p = 0\.000; DeLong one-sided p = ", decision.Reason);
        Assert.Equal(["rule", "guard"], decision.Criteria.Select(c => c.Name));
        Assert.Equal(GateDecision.AllPassed, decision.DecidedBy);
        Assert.StartsWith("[pass] rule: candidate wins 100.0% of 300 paired resamples ≥ 95.0% required: one-sided 95% lower bound of ΔAUC +0.", decision.Reasons[0]);
        Assert.StartsWith("[pass] guard (alpha spending): DeLong one-sided p = ", decision.Reasons[1]);
        Assert.StartsWith("power: a true gain under +0.", decision.Reasons[^1]);
        Assert.Equal(Snapshot, decision.TestSnapshot);
        Assert.Equal(300, decision.Bootstrap!.DeltaAucs.Count);
        Assert.True(decision.DeLong!.Z > 0);
        Assert.Equal(decision.Bootstrap.CandidateAuc, decision.Candidate.Auc, 12);
    }

    [Fact]
    public void The_headline_is_the_full_test_set_difference_with_the_bootstrap_mean_beside_it()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(2000, 9, championNoise: 1.2);

        var d = Gate.Decide(Options, labels, candidate, champion, Snapshot);

        Assert.Equal(Auc.Compute(labels, candidate) - Auc.Compute(labels, champion), d.Delta!.Observed, 12);
        Assert.Equal(d.Bootstrap!.MeanDelta, d.Delta.BootstrapMean, 12);
        Assert.NotEqual(d.Delta.Observed, d.Delta.BootstrapMean);
        Assert.Contains($"ΔAUC {Gate.Signed(d.Delta.Observed)} (bootstrap mean {Gate.Signed(d.Delta.BootstrapMean)})", d.Reason);
    }

    [Fact]
    public void Identical_models_keep_the_champion_and_say_the_rule_decided()
    {
        var (labels, candidate, _) = EvaluationData.Pair(1000, 2, championNoise: 1);

        var decision = Gate.Decide(Options, labels, candidate, (double[])candidate.Clone(), Snapshot);

        Assert.False(decision.Promote);
        Assert.Equal(GateOutcome.KeepChampion, decision.Outcome);
        Assert.Equal(0.0, decision.Bootstrap!.WinRatio);
        Assert.Equal("rule", decision.DecidedBy);
        Assert.StartsWith("kept champion: rule blocked (rule: candidate wins 0.0% of 300 paired resamples < 95.0% required", decision.Reason);
        Assert.Contains("one-sided p = 1.000 > 0.050", decision.Reason);
        Assert.EndsWith("; the two models rank the test rows alike", decision.Reason);
        Assert.Equal("power: the two models rank the test rows alike (SE of ΔAUC 0), so no resample can tell them apart", decision.Reasons[^1]);
    }

    [Fact]
    public void A_worse_candidate_keeps_the_champion()
    {
        var (labels, better, worse) = EvaluationData.Pair(2000, 3, championNoise: 2.0);
        var decision = Gate.Decide(Options, labels, worse, better, Snapshot);
        Assert.Equal(GateOutcome.KeepChampion, decision.Outcome);
        Assert.True(decision.Delta!.Observed < 0);
        Assert.EndsWith($"a gain under {Gate.Signed(decision.Delta.MinimumDetectable)} can't be seen with 80% probability on 2,000 test rows", decision.Reason);
    }

    [Theory]
    [InlineData(1000, 0.95, 950, true)]
    [InlineData(1000, 0.95, 949, false)]
    [InlineData(300, 0.95, 285, true)]
    [InlineData(300, 0.95, 284, false)]
    [InlineData(1000, 0.99, 990, true)]
    [InlineData(1000, 0.99, 989, false)]
    [InlineData(200, 0.9, 180, true)]
    [InlineData(200, 0.9, 179, false)]
    public void The_one_sided_bound_and_p_agree_with_the_win_ratio_rule_at_the_boundary(int resamples, double ratio, int wins, bool promote)
    {
        // The resamples not won have ΔAUC exactly 0 (ties are no win): the hardest case for a bound.
        var deltas = Enumerable.Range(0, resamples).Select(r => r < resamples - wins ? 0.0 : 0.001 + r * 1e-6).Reverse().ToArray();
        var bootstrap = new BootstrapResult(0.9, 0.89, resamples, 1, deltas, wins, (double)wins / resamples, deltas.Average(), 0, 0.01);
        var deLong = new DeLongResult(0.9, 0.89, 0.01, 1e-4, 1e-4, 0.5e-4, 1e-4, 1.0, 0.3);

        var d = AucComparison.Of(bootstrap, deLong, ratio);

        Assert.Equal(promote, d.RulePasses(bootstrap));
        Assert.Equal(promote, bootstrap.WinRatio >= ratio);
        Assert.Equal(promote, d.LowerBound > 0);
        Assert.Equal(promote, d.OneSidedP <= 1 - ratio + 1e-12);
        Assert.Equal((double)(resamples - wins) / resamples, d.OneSidedP, 15);
    }

    [Fact]
    public void On_simulated_close_calls_every_printed_bound_and_p_agrees_with_what_the_rule_decided()
    {
        int promoted = 0, kept = 0;
        for (ulong seed = 1; seed <= 24; seed++)
        {
            var (labels, candidate, champion) = GateSimulation.Pair(2000, 0.005, seed);
            var d = Gate.Decide(RuleOnly, labels, candidate, champion, Snapshot);
            var rule = d.Criteria[0];
            Assert.Equal(d.Promote, rule.Verdict == CriterionVerdict.Pass);
            Assert.Equal(d.Promote, d.Delta!.LowerBound > 0);
            Assert.Equal(d.Promote, d.Delta.OneSidedP <= RuleOnly.Alpha + 1e-12);
            Assert.Contains(d.Promote ? $"lower bound of ΔAUC {Gate.Signed(d.Delta.LowerBound)} > 0" : $"lower bound of ΔAUC {Gate.Signed(d.Delta.LowerBound)} ≤ 0", rule.Line);
            // DeLong's one-sided test is the same question asked by a normal approximation: it may differ near the line, never far from it.
            if (d.Promote) Assert.True(d.Delta.DeLongOneSidedP < 0.15, $"seed {seed}: promoted with DeLong one-sided p {d.Delta.DeLongOneSidedP}");
            if (d.Promote) promoted++; else kept++;
        }
        Assert.True(promoted > 0 && kept > 0, $"the cases must straddle the boundary ({promoted} promoted, {kept} kept)");
    }

    [Fact]
    public void The_minimum_detectable_gain_comes_from_DeLongs_standard_error_and_halves_with_four_times_the_rows()
    {
        var small = Gate.Decide(Options, GateSimulation.Pair(2000, 0, 5).Labels, GateSimulation.Pair(2000, 0, 5).Candidate, GateSimulation.Pair(2000, 0, 5).Champion, Snapshot);
        var (l, c, h) = GateSimulation.Pair(8000, 0, 5);
        var large = Gate.Decide(Options, l, c, h, Snapshot);

        double expected = (NormalDistribution.Quantile(0.95) + NormalDistribution.Quantile(0.8)) * Math.Sqrt(small.DeLong!.DeltaVariance);
        Assert.Equal(expected, small.Delta!.MinimumDetectable, 12);
        Assert.InRange(large.Delta!.MinimumDetectable / small.Delta.MinimumDetectable, 0.4, 0.6);
        Assert.Contains($"a true gain under {Gate.Signed(large.Delta.MinimumDetectable)} can't be seen with 80% probability on 8,000 test rows", large.Reasons[^1]);
    }

    [Fact]
    public void One_positive_test_row_is_refused_with_the_counts_and_the_setting_to_change()
    {
        var labels = Enumerable.Range(0, 100).Select(i => i == 0).ToArray();
        var scores = Enumerable.Range(0, 100).Select(i => i / 100.0).ToArray();

        var error = Assert.Throws<CtBuildException>(() => Gate.Decide(Options, labels, scores, scores.Reverse().ToArray(), Snapshot));

        Assert.StartsWith("The gate cannot decide: the test split of features v7 has 1 positive and 99 negative rows, and it needs at least 10 of each (evaluate.minClassCount)", error.Message);
        Assert.Throws<CtBuildException>(() => Gate.Decide(Options, labels, scores, null, Snapshot));
        var few = Enumerable.Range(0, 100).Select(i => i % 25 == 0).ToArray(); // 4 positives
        Assert.Throws<CtBuildException>(() => Gate.Decide(Options, few, scores, null, Snapshot));
        Assert.True(Gate.Decide(Options with { MinClassCount = 4, MinAuc = 0 }, few, scores, null, Snapshot).Promote);
    }

    [Fact]
    public void The_alpha_spending_guard_blocks_a_rule_pass_whose_DeLong_p_exceeds_its_share_and_names_itself()
    {
        var (labels, candidate, champion, rule) = FirstCase(d => d.Promote && d.Delta!.DeLongOneSidedP > 0.0025);

        var guarded = Gate.Decide(Options, labels, candidate, champion, Snapshot);

        Assert.True(rule.Promote);
        Assert.False(guarded.Promote);
        Assert.Equal("guard", guarded.DecidedBy);
        Assert.StartsWith("kept champion: guard blocked (guard (alpha spending): DeLong one-sided p = ", guarded.Reason);
        Assert.Contains("> 0.0025 per decision (0.05 over a tenure of 20 retrains)", guarded.Reason);
        Assert.Equal(CriterionVerdict.Reported, rule.Criteria[1].Verdict);
        Assert.StartsWith("guard: none (an equal candidate replaces the champion within 20 retrains with probability up to 64.2%)", rule.Criteria[1].Line);
    }

    [Fact]
    public void The_margin_and_power_guards_block_gains_below_what_they_require()
    {
        var (labels, candidate, champion, rule) = FirstCase(d => d.Promote && d.Delta!.LowerBound < 0.004);
        var margin = Options with { Guard = new RetrainGuardOptions { Kind = RetrainGuardKind.Margin, Margin = 0.004 } };
        var power = Options with { Guard = new RetrainGuardOptions { Kind = RetrainGuardKind.Power, Power = 0.9 } };

        var byMargin = Gate.Decide(margin, labels, candidate, champion, Snapshot);
        var byPower = Gate.Decide(power, labels, candidate, champion, Snapshot);

        Assert.False(byMargin.Promote);
        Assert.Contains($"guard (margin): one-sided 95% lower bound {Gate.Signed(rule.Delta!.LowerBound)} ≤ margin +0.0040", byMargin.Reason);
        double required = RetrainGuard.RequiredGain(power, rule.Delta.StandardError);
        Assert.Equal(rule.Delta.Observed >= required, byPower.Promote);
        Assert.Contains($"{Gate.Signed(required)}, the gain this test set detects with 90% probability", byPower.Reasons[1]);
    }

    [Fact]
    public void A_better_ranked_but_worse_calibrated_candidate_is_blocked_by_the_calibration_criterion()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(3000, 1, championNoise: 2.0);
        var overconfident = candidate.Select(p => Math.Pow(p, 0.25)).ToArray(); // same ranking, probabilities pushed up
        var brier = Options with { Calibration = new CalibrationOptions { Metric = CalibrationMetric.Brier } };
        var ece = Options with { Calibration = new CalibrationOptions { Metric = CalibrationMetric.Ece } };

        var blocked = Gate.Decide(brier, labels, overconfident, champion, Snapshot);
        var blockedByEce = Gate.Decide(ece, labels, overconfident, champion, Snapshot);
        var fine = Gate.Decide(brier, labels, candidate, champion, Snapshot);

        Assert.False(blocked.Promote);
        Assert.Equal("calibration", blocked.DecidedBy);
        Assert.Equal(CriterionVerdict.Pass, blocked.Criteria[0].Verdict);
        Assert.True(blocked.Calibration!.LowerBound > 0 && blocked.Calibration.Difference > 0);
        Assert.Contains("calibration (Brier score, lower is better): candidate", blocked.Reason);
        Assert.Equal("calibration", blockedByEce.DecidedBy);
        Assert.True(fine.Promote);
        Assert.Equal(CriterionVerdict.Pass, fine.Criteria.Single(c => c.Name == "calibration").Verdict);
    }

    [Fact]
    public void A_candidate_worse_on_one_segment_is_blocked_and_a_small_segment_is_only_reported()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(3000, 4, championNoise: 2.0);
        var random = new Random(4);
        var group = Enumerable.Range(0, labels.Length).Select(i => i < 2000 ? "A" : i < 2950 ? "B" : "C").ToArray();
        // On segment B the candidate scores noise, far worse than the champion there.
        var mixed = candidate.Select((p, i) => group[i] == "B" ? random.NextDouble() : p).ToArray();
        var options = Options with { Segments = ["group"], MinSegmentRows = 100, Guard = new RetrainGuardOptions { Kind = RetrainGuardKind.None } };
        var segments = new Dictionary<string, string?[]> { ["group"] = group };

        var blocked = Gate.Decide(options, labels, mixed, champion, Snapshot, segments: segments);
        var clean = Gate.Decide(options, labels, candidate, champion, Snapshot, segments: segments);

        Assert.False(blocked.Promote);
        Assert.Equal("segment group = B", blocked.DecidedBy);
        var small = blocked.Criteria.Single(c => c.Name == "segment group = C");
        Assert.Equal(CriterionVerdict.Reported, small.Verdict);
        Assert.Contains("(50 rows,", small.Line);
        Assert.Contains("reported only (gated from 100 rows and 10 of each class)", small.Line);
        Assert.True(clean.Promote, clean.Reason);
        Assert.Equal(["rule", "guard", "segment group = A", "segment group = B", "segment group = C"], clean.Criteria.Select(c => c.Name));
    }

    [Fact]
    public void Without_a_champion_the_floor_decides()
    {
        var (labels, candidate, _) = EvaluationData.Pair(1000, 4, championNoise: 1);
        double auc = Auc.Compute(labels, candidate);

        var promoted = Gate.Decide(Options with { MinAuc = auc }, labels, candidate, null, Snapshot);
        var rejected = Gate.Decide(Options with { MinAuc = auc + 0.01 }, labels, candidate, null, Snapshot);

        Assert.Equal(GateOutcome.Promote, promoted.Outcome);
        Assert.StartsWith("no champion registered; candidate AUC", promoted.Reason);
        Assert.Equal("floor", promoted.DecidedBy);
        Assert.Equal(GateOutcome.Reject, rejected.Outcome);
        Assert.False(rejected.Promote);
        Assert.Contains("< floor", rejected.Reason);
        Assert.Null(rejected.Bootstrap);
        Assert.Null(rejected.Champion);
    }

    [Fact]
    public void An_unscorable_champion_is_gated_like_no_champion_and_says_why()
    {
        var (labels, candidate, _) = EvaluationData.Pair(800, 5, championNoise: 1);

        var decision = Gate.Decide(Options with { MinAuc = 0.5 }, labels, candidate, null, Snapshot,
            championUnscorable: "input signature mismatch: column 'age' is Single, champion expects String");

        Assert.Equal(GateOutcome.Promote, decision.Outcome);
        Assert.Equal("input signature mismatch: column 'age' is Single, champion expects String", decision.ChampionUnscorable);
        Assert.StartsWith("champion cannot be scored (input signature mismatch", decision.Reason);
        Assert.Throws<ArgumentException>(() =>
            Gate.Decide(Options, labels, candidate, candidate, Snapshot, championUnscorable: "both given"));
    }

    [Fact]
    public void A_test_split_with_one_class_names_the_split_and_snapshot_version()
    {
        var error = Assert.Throws<CtBuildException>(() =>
            Gate.Decide(Options, [true, true, true], [0.2, 0.5, 0.9], null, Snapshot));
        Assert.StartsWith("AUC is undefined: test split of features v7 has only positive labels (3 rows)", error.Message);
    }

    [Fact]
    public void Nan_scores_are_refused_with_the_row_index_and_snapshot()
    {
        bool[] labels = [true, false, true, false];
        var error = Assert.Throws<CtBuildException>(() =>
            Gate.Decide(Options, labels, [0.2, 0.5, 0.9, 0.1], [0.3, 0.1, double.NaN, 0.2], Snapshot));
        Assert.Contains("champion scores is NaN at row 2 of 4 (test split of features v7)", error.Message);
    }

    [Fact]
    public void Ties_in_scores_are_handled_and_decided_deterministically()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(1500, 6, championNoise: 1.5, decimals: 1);

        var first = Gate.Decide(Options, labels, candidate, champion, Snapshot);
        var second = Gate.Decide(Options, labels, candidate, champion, Snapshot);

        Assert.Equal(first.Reason, second.Reason);
        Assert.Equal(EvaluationData.BruteForceAuc(labels, candidate), first.Candidate.Auc, 12);
        Assert.Equal(EvaluationData.BruteForceAuc(labels, champion), first.Champion!.Auc, 12);
    }

    [Fact]
    public void Out_of_range_options_are_one_config_error_listing_every_key()
    {
        var options = new GateOptions
        {
            BootstrapRatio = 1.5, Resamples = 10, MinAuc = 2, MinClassCount = 1,
            Guard = new RetrainGuardOptions { Tenure = 0 }, Calibration = new CalibrationOptions { Margin = -1 },
        };

        var error = Assert.Throws<ConfigException>(() => Gate.Decide(options, [true, false], [0.9, 0.1], null, Snapshot));

        Assert.Equal(2, error.ExitCode);
        Assert.Equal(string.Join(Environment.NewLine,
            "The gate options are invalid:",
            "  evaluate.bootstrapRatio is 1.5; it must be in [0.5, 1), e.g. 0.95 (a one-sided test at 5%).",
            "  evaluate.resamples is 10; use at least 100 resamples, e.g. 1000.",
            "  evaluate.minAuc is 2; it must be between 0 and 1, e.g. 0.75.",
            "  evaluate.minClassCount is 1; DeLong's variance needs at least 2 rows of each class, e.g. 10.",
            "  evaluate.guard.tenure is 0; it must be at least 1, e.g. 20.",
            "  evaluate.calibration.margin is -1; it must be in [0, 1), e.g. 0."), error.Message);
    }

    /// <summary>The first seeded simulated pair (true ΔAUC +0.01, 2,000 rows) whose rule-only decision matches.</summary>
    static (bool[] Labels, double[] Candidate, double[] Champion, GateDecision RuleOnly) FirstCase(Func<GateDecision, bool> match)
    {
        for (ulong seed = 1; seed < 200; seed++)
        {
            var (labels, candidate, champion) = GateSimulation.Pair(2000, 0.01, seed);
            var d = Gate.Decide(RuleOnly, labels, candidate, champion, Snapshot);
            if (match(d)) return (labels, candidate, champion, d);
        }
        throw new InvalidOperationException("no seeded case matches");
    }
}
