using CtBuild.Evaluation;

namespace CtBuild.Tests.Evaluation;

public class GateTests
{
    private static readonly TestSnapshotRef Snapshot = new("features", 7);
    private static readonly GateOptions Options = new(BootstrapRatio: 0.95, Resamples: 300, Seed: 1, MinAuc: 0.7);

    [Fact]
    public void A_clearly_better_candidate_is_promoted_with_the_numbers_in_the_reason()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(3000, 1, championNoise: 2.0);

        var decision = Gate.Decide(Options, labels, candidate, champion, Snapshot);

        Assert.True(decision.Promote);
        Assert.Equal(GateOutcome.Promote, decision.Outcome);
        Assert.Matches(@"^candidate wins \d+\.\d% of 300 paired resamples ≥ 95\.0% required; ΔAUC \+0\.\d{4} \[\+0\.\d{4}, \+0\.\d{4}\]; DeLong p = ", decision.Reason);
        Assert.Equal(Snapshot, decision.TestSnapshot);
        Assert.NotNull(decision.Champion);
        Assert.NotNull(decision.DeLong);
        Assert.Equal(300, decision.Bootstrap!.DeltaAucs.Count);
        Assert.True(decision.DeLong!.Z > 0);
        Assert.Equal(decision.Bootstrap.CandidateAuc, decision.Candidate.Auc, 12);
    }

    [Fact]
    public void Identical_models_keep_the_champion()
    {
        var (labels, candidate, _) = EvaluationData.Pair(1000, 2, championNoise: 1);

        var decision = Gate.Decide(Options, labels, candidate, (double[])candidate.Clone(), Snapshot);

        Assert.False(decision.Promote);
        Assert.Equal(GateOutcome.KeepChampion, decision.Outcome);
        Assert.Equal(0.0, decision.Bootstrap!.WinRatio);
        Assert.StartsWith("candidate wins 0.0% of 300 paired resamples < 95.0% required", decision.Reason);
    }

    [Fact]
    public void A_worse_candidate_keeps_the_champion()
    {
        var (labels, better, worse) = EvaluationData.Pair(2000, 3, championNoise: 2.0);
        var decision = Gate.Decide(Options, labels, worse, better, Snapshot);
        Assert.Equal(GateOutcome.KeepChampion, decision.Outcome);
        Assert.True(decision.Bootstrap!.MeanDelta < 0);
    }

    [Fact]
    public void Min_gain_blocks_a_candidate_whose_interval_does_not_clear_it()
    {
        var (labels, candidate, champion) = EvaluationData.Pair(3000, 1, championNoise: 2.0);
        var withoutGain = Gate.Decide(Options, labels, candidate, champion, Snapshot);
        double tooMuch = withoutGain.Bootstrap!.DeltaLower + 0.001;

        var decision = Gate.Decide(Options with { MinGain = tooMuch }, labels, candidate, champion, Snapshot);

        Assert.True(withoutGain.Promote);
        Assert.Equal(GateOutcome.KeepChampion, decision.Outcome);
        Assert.Contains("≤ required gain", decision.Reason);
        Assert.True(Gate.Decide(Options with { MinGain = 0.0 }, labels, candidate, champion, Snapshot).Promote);
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

    [Theory]
    [InlineData(0.0, 1000, 0.5, "BootstrapRatio")]
    [InlineData(1.5, 1000, 0.5, "BootstrapRatio")]
    [InlineData(0.95, 0, 0.5, "Resamples")]
    [InlineData(0.95, 1000, 1.5, "MinAuc")]
    public void Out_of_range_options_are_a_config_error_naming_the_option(double ratio, int resamples, double minAuc, string option)
    {
        var error = Assert.Throws<ConfigException>(() =>
            Gate.Decide(new GateOptions(ratio, resamples, MinAuc: minAuc), [true, false], [0.9, 0.1], null, Snapshot));
        Assert.Contains(option, error.Message);
        Assert.Equal(2, error.ExitCode);
    }
}
