namespace CtBuild.Reporting;

/// <summary>The hyperparameter search.</summary>
/// <param name="Sampler">The sampler's name, e.g. "TPE".</param>
/// <param name="BestTrial">Number of the best trial; null when none completed.</param>
public sealed record TuningSummary(string Sampler, int? BestTrial, IReadOnlyList<TrialResult> Trials)
{
    /// <summary>The successive-halving rungs, e.g. "1/27, 1/9, 1/3, 1"; null when every trial trained on all rows.</summary>
    public string? Rungs { get; init; }

    /// <summary>Trials stopped at a rung.</summary>
    public int Pruned => Trials.Count(t => t.State == TrialState.Pruned);
}

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
    string? Error)
{
    /// <summary>The rungs the trial ran, e.g. "1/27: 0.8123 · 1/9: 0.8301"; null without successive halving.</summary>
    public string? Rungs { get; init; }
}
