using System.Text.Json.Serialization;

namespace CtBuild.Evaluation;

/// <summary>What the gate decided.</summary>
public enum GateOutcome
{
    /// <summary>The candidate becomes the champion.</summary>
    Promote,
    /// <summary>There is a champion and the candidate did not beat it.</summary>
    KeepChampion,
    /// <summary>There is no usable champion and the candidate is below the AUC floor.</summary>
    Reject,
}

/// <summary>What one criterion of the gate said.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CriterionVerdict>))]
public enum CriterionVerdict
{
    /// <summary>The criterion allows the promotion.</summary>
    Pass,
    /// <summary>The criterion blocks the promotion.</summary>
    Block,
    /// <summary>Shown for information, not gated on (e.g. a segment too small to judge).</summary>
    Reported,
}

/// <summary>One criterion of a decision: its name (<c>rule</c>, <c>guard</c>, <c>calibration</c>, <c>segment sex = Male</c>, <c>floor</c>), verdict and line.</summary>
public sealed record GateCriterion(string Name, CriterionVerdict Verdict, string Line);

/// <summary>The gate's decision with everything a report or an audit needs to explain it.</summary>
/// <param name="Promote">True when <paramref name="Outcome"/> is <see cref="GateOutcome.Promote"/>.</param>
/// <param name="Outcome">Promote, keep the champion, or reject.</param>
/// <param name="Reason">One sentence with the numbers, for a commit message or a summary line.</param>
/// <param name="Reasons">Each criterion's line, then the figures and the power, one line each.</param>
/// <param name="TestSnapshot">The frozen rows both models were scored on.</param>
/// <param name="Options">The options the decision was made with.</param>
/// <param name="Candidate">Candidate metrics on the test rows.</param>
/// <param name="Champion">Champion metrics, or null when there is no usable champion.</param>
/// <param name="ChampionUnscorable">Why the registered champion could not be scored, if so.</param>
/// <param name="Bootstrap">Paired bootstrap of ΔAUC (win ratio, mean, interval, distribution), when a champion was scored.</param>
/// <param name="DeLong">DeLong's test of the two AUCs, when a champion was scored.</param>
public sealed record GateDecision(
    bool Promote, GateOutcome Outcome, string Reason, IReadOnlyList<string> Reasons,
    TestSnapshotRef TestSnapshot, GateOptions Options,
    BinaryMetrics Candidate, BinaryMetrics? Champion, string? ChampionUnscorable,
    BootstrapResult? Bootstrap, DeLongResult? DeLong)
{
    /// <summary>The ΔAUC figures that match the rule (observed, one-sided bound and p, power), when a champion was scored.</summary>
    public AucComparison? Delta { get; init; }

    /// <summary>Every criterion in the order checked: rule, guard, calibration, segments (or the floor alone).</summary>
    public IReadOnlyList<GateCriterion> Criteria { get; init; } = [];

    /// <summary>The criterion that decided: the first that blocked, or <see cref="AllPassed"/>.</summary>
    public string DecidedBy { get; init; } = "";

    /// <summary>The calibration comparison, when <see cref="GateOptions.Calibration"/> is set.</summary>
    public CalibrationResult? Calibration { get; init; }

    /// <summary>Per-segment ΔAUC, when <see cref="GateOptions.Segments"/> is set.</summary>
    public IReadOnlyList<SegmentResult> Segments { get; init; } = [];

    /// <summary><see cref="DecidedBy"/> when no criterion blocked.</summary>
    public const string AllPassed = "all criteria";

    /// <summary>Win ratio required for promotion (from <see cref="Options"/>).</summary>
    public double RequiredWinRatio => Options.BootstrapRatio;
}
