namespace CtBuild.Reporting;

/// <summary>Everything one pipeline run reports: the data behind report.html and summary.md.</summary>
/// <param name="RunId">The run's id; also its folder name under reports/.</param>
/// <param name="StartedAt">When the run started.</param>
/// <param name="Workspace">The workspace name (e.g. the repository).</param>
/// <param name="Environment">The environment the run used (e.g. "dev", "prod").</param>
public sealed record PipelineReport(
    string RunId,
    DateTimeOffset StartedAt,
    string Workspace,
    string Environment,
    Decision Decision,
    DataSummary Data,
    TuningSummary Tuning,
    ModelComparison Models,
    BootstrapSummary? Bootstrap,
    ModelCard ModelCard,
    IReadOnlyList<StageResult> Stages);

/// <summary>What the run decided about the candidate model.</summary>
public enum DecisionOutcome { Promoted, KeptChampion, Rejected }

/// <summary>How reports write a <see cref="DecisionOutcome"/>.</summary>
public static class DecisionOutcomeLabels
{
    /// <summary>"PROMOTED", "KEPT CHAMPION" or "REJECTED".</summary>
    public static string Label(this DecisionOutcome outcome) => outcome switch
    {
        DecisionOutcome.Promoted => "PROMOTED",
        DecisionOutcome.KeptChampion => "KEPT CHAMPION",
        _ => "REJECTED",
    };
}

/// <summary>The promotion decision with the numbers it rests on.</summary>
/// <param name="Reason">One sentence with the numbers, e.g. "Won 97.1% of 1000 resamples (≥ 95%), ΔAUC +0.0123".</param>
/// <param name="WinRatio">Share of bootstrap resamples where the candidate beat the champion; null without a champion.</param>
/// <param name="WinThreshold">The win ratio needed to promote.</param>
/// <param name="MeanDeltaAuc">Mean candidate − champion AUC over the resamples (shown beside <see cref="ObservedDeltaAuc"/>); null without a champion.</param>
/// <param name="CiLow">2.5th percentile of ΔAUC over the resamples (two-sided, secondary).</param>
/// <param name="CiHigh">97.5th percentile of ΔAUC over the resamples (two-sided, secondary).</param>
/// <param name="DeLongZ">DeLong's z for candidate − champion.</param>
/// <param name="DeLongP">DeLong's two-sided p (secondary).</param>
/// <param name="MinAucFloor">The candidate must reach this AUC whatever the champion does.</param>
/// <param name="HadChampion">False on a first run: the candidate is judged against the floor only.</param>
/// <param name="TestSnapshot">The frozen test table both models were scored on.</param>
public sealed record Decision(
    DecisionOutcome Outcome,
    string ModelName,
    int? Version,
    string Reason,
    double? WinRatio,
    double WinThreshold,
    double? MeanDeltaAuc,
    double? CiLow,
    double? CiHigh,
    double? DeLongZ,
    double? DeLongP,
    double MinAucFloor,
    bool HadChampion,
    TableSnapshot TestSnapshot)
{
    /// <summary>"PROMOTED", "KEPT CHAMPION" or "REJECTED".</summary>
    public string OutcomeLabel => Outcome.Label();

    /// <summary>ΔAUC on the full test set: the headline figure; null without a champion.</summary>
    public double? ObservedDeltaAuc { get; init; }

    /// <summary>The rule's one-sided confidence (the win ratio needed, e.g. 0.95).</summary>
    public double Confidence => WinThreshold;

    /// <summary>One-sided lower bound of ΔAUC at <see cref="Confidence"/>; the rule promotes only when it is above 0.</summary>
    public double? LowerBound { get; init; }

    /// <summary>Bootstrap one-sided p (share of resamples not won); the rule promotes only when it is at most 1 − <see cref="Confidence"/>.</summary>
    public double? OneSidedP { get; init; }

    /// <summary>DeLong's one-sided p for "candidate better".</summary>
    public double? DeLongOneSidedP { get; init; }

    /// <summary>Smallest true ΔAUC the rule detects with 80% probability on this test set.</summary>
    public double? MinimumDetectable { get; init; }

    /// <summary>Rows of the test snapshot and how many are positive.</summary>
    public int TestRows { get; init; }
    public int TestPositives { get; init; }

    /// <summary>Each criterion of the gate, in the order checked.</summary>
    public IReadOnlyList<Criterion> Criteria { get; init; } = [];

    /// <summary>The criterion that decided, e.g. "guard", or "all criteria" when none blocked.</summary>
    public string DecidedBy { get; init; } = "";
}

/// <summary>What a gate criterion said: it allowed the promotion, blocked it, or is shown without being gated on.</summary>
public enum CriterionStatus { Pass, Block, Reported }

/// <summary>One gate criterion as reported.</summary>
public sealed record Criterion(string Name, CriterionStatus Status, string Line)
{
    /// <summary><c>pass</c>, <c>block</c> or <c>reported</c>, as templates print and compare it.</summary>
    public string Verdict => Status.ToString().ToLowerInvariant();
}

/// <summary>A table at one version.</summary>
public sealed record TableSnapshot(string Table, long Version);

/// <summary>Whether a pipeline stage ran, was skipped as up to date, or failed.</summary>
public enum StageStatus { Ran, Skipped, Failed }

/// <summary>One stage of the run.</summary>
/// <param name="Reason">Why it was skipped or failed, e.g. "up to date"; null when it simply ran.</param>
public sealed record StageResult(string Name, StageStatus Status, string? Reason, TimeSpan Duration);
