namespace CtBuild.Reporting;

/// <summary>The hyperparameter search.</summary>
/// <param name="Sampler">The sampler's name, e.g. "TPE".</param>
/// <param name="BestTrial">Number of the best trial; null when none completed.</param>
public sealed record TuningSummary(string Sampler, int? BestTrial, IReadOnlyList<TrialResult> Trials);

/// <summary>How a trial ended.</summary>
public enum TrialState { Complete, Failed, Pruned }

/// <summary>One tuning trial.</summary>
/// <param name="Params">Parameter values: numbers (plotted against AUC) or strings (shown in the table).</param>
/// <param name="ValidationAuc">Null when the trial failed.</param>
/// <param name="Error">Why the trial failed; null otherwise.</param>
public sealed record TrialResult(
    int Number,
    string Trainer,
    IReadOnlyDictionary<string, object> Params,
    double? ValidationAuc,
    double? LogLoss,
    TimeSpan Duration,
    TrialState State,
    string? Error);
