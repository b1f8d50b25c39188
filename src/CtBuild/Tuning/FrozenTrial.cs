namespace CtBuild.Tuning;

/// <summary>
/// An immutable record of one trial, as samplers and callers see it. Never changes after it is made;
/// finishing a trial replaces its record.
/// </summary>
/// <param name="Number">0-based order in which the trial was claimed in its study.</param>
/// <param name="Params">Parameter values: ints as int, reals as double, choices as their value.</param>
/// <param name="State">Running, Complete, Failed, TimedOut or Pruned.</param>
/// <param name="Value">The objective's value; null unless Complete.</param>
/// <param name="Metrics">Extra figures the objective reported (e.g. logloss).</param>
/// <param name="Attachment">Whatever the objective attached, e.g. the fitted model; only in the process that ran the trial.</param>
/// <param name="Error">Why the trial failed or timed out; null otherwise.</param>
/// <param name="Start">When the trial was claimed.</param>
/// <param name="Duration">How long it ran; null while Running.</param>
public sealed record FrozenTrial(
    int Number,
    IReadOnlyDictionary<string, object> Params,
    TrialState State,
    double? Value,
    IReadOnlyDictionary<string, double> Metrics,
    object? Attachment,
    string? Error,
    DateTimeOffset Start,
    TimeSpan? Duration)
{
    /// <summary>How <see cref="Error"/> starts for a trial whose worker stopped sending heartbeats or ended (see <see cref="IsAbandoned"/>).</summary>
    public const string AbandonedPrefix = "abandoned:";

    /// <summary>What the trial cost, in training seconds (the objective's own measure; null when it gave none).</summary>
    public double? Cost { get; init; }

    /// <summary>Values reported on the way, by step: for successive halving, the rung (0 = smallest subsample) and its value.</summary>
    public IReadOnlyDictionary<int, double> Intermediate { get; init; } = new Dictionary<int, double>();

    /// <summary>Who ran the trial, e.g. "process 123 on host"; null when not recorded.</summary>
    public string? Worker { get; init; }

    /// <summary>The number of the abandoned trial whose parameters this trial runs again, or null.</summary>
    public int? RetryOf { get; init; }

    /// <summary>Failed because its worker stopped (killed, crashed, lost): its parameters deserve another run, once.</summary>
    public bool IsAbandoned => State == TrialState.Failed && Error is not null && Error.StartsWith(AbandonedPrefix, StringComparison.Ordinal);

    public override string ToString() =>
        $"#{Number} {State}{(Value is { } v ? $" {v:G6}" : "")}{(Error is null ? "" : $" ({Error})")} "
        + "{" + string.Join(", ", Params.Select(p => $"{p.Key}={p.Value}")) + "}";
}

/// <summary>What an objective returns: the value to optimise, optional extra metrics, an attachment and its cost in seconds.</summary>
public sealed record TrialOutcome(double Value, IReadOnlyDictionary<string, double>? Metrics = null, object? Attachment = null)
{
    /// <summary>Training seconds, recorded as <see cref="FrozenTrial.Cost"/>; null records the trial's duration instead.</summary>
    public double? Cost { get; init; }
}
