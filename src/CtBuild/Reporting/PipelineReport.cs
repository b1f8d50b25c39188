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
/// <param name="MeanDeltaAuc">Mean candidate − champion AUC over the resamples; null without a champion.</param>
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
}

/// <summary>A table at one version.</summary>
public sealed record TableSnapshot(string Table, long Version);

/// <summary>Whether a pipeline stage ran, was skipped as up to date, or failed.</summary>
public enum StageStatus { Ran, Skipped, Failed }

/// <summary>One stage of the run.</summary>
/// <param name="Reason">Why it was skipped or failed, e.g. "up to date"; null when it simply ran.</param>
public sealed record StageResult(string Name, StageStatus Status, string? Reason, TimeSpan Duration);
