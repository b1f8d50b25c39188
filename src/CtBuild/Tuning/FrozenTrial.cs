namespace CtBuild.Tuning;

/// <summary>
/// An immutable record of one trial, as samplers and callers see it. Never changes after it is made;
/// finishing a trial replaces its record.
/// </summary>
/// <param name="Number">0-based order in which the trial was asked for.</param>
/// <param name="Params">Parameter values: ints as int, reals as double, choices as their value.</param>
/// <param name="State">Running, Complete or Failed.</param>
/// <param name="Value">The objective's value; null unless Complete.</param>
/// <param name="Metrics">Extra figures the objective reported (e.g. logloss).</param>
/// <param name="Attachment">Whatever the objective attached, e.g. the fitted model.</param>
/// <param name="Error">Why the trial failed; null unless Failed.</param>
/// <param name="Start">When the trial was asked for.</param>
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
    public override string ToString() =>
        $"#{Number} {State}{(Value is { } v ? $" {v:G6}" : "")}{(Error is null ? "" : $" ({Error})")} "
        + "{" + string.Join(", ", Params.Select(p => $"{p.Key}={p.Value}")) + "}";
}

/// <summary>What an objective returns: the value to optimise, optional extra metrics and an attachment.</summary>
public sealed record TrialOutcome(double Value, IReadOnlyDictionary<string, double>? Metrics = null, object? Attachment = null);
