using System.Globalization;
using System.Text.Json.Serialization;

namespace CtBuild.Evaluation;

/// <summary>
/// How the evaluation gate decides whether a candidate replaces the champion: the <c>evaluate</c> section of
/// <c>ctbuild.json</c>. Its defaults and its validation live here and nowhere else; the config loader binds
/// it and reports <see cref="Errors"/> with the key's line.
/// </summary>
public sealed record GateOptions
{
    /// <summary>Fraction of paired resamples the candidate must win (strictly higher AUC). It is the
    /// confidence of the one-sided test: 0.95 is a one-sided test at α = 0.05.</summary>
    /// <value>The default value is 0.95.</value>
    public double BootstrapRatio { get; init; } = 0.95;

    /// <summary>Number of paired, stratified bootstrap resamples.</summary>
    /// <value>The default value is 1000.</value>
    public int Resamples { get; init; } = 1000;

    /// <summary>Seed of the resamples; the same seed gives the same decision.</summary>
    /// <value>The default value is 7.</value>
    public int Seed { get; init; } = 7;

    /// <summary>AUC floor applied only when there is no champion (or it cannot be scored).</summary>
    /// <value>The default value is 0.75.</value>
    public double MinAuc { get; init; } = 0.75;

    /// <summary>Score at or above which a row is called positive, for accuracy, precision, recall, F1.</summary>
    /// <value>The default value is 0.5.</value>
    public double Threshold { get; init; } = 0.5;

    /// <summary>Fewest test rows of each class the gate decides on; below it the gate refuses to decide.</summary>
    /// <value>The default value is 10.</value>
    public int MinClassCount { get; init; } = 10;

    /// <summary>The guard against promoting an equal candidate over many retrains.</summary>
    public RetrainGuardOptions Guard { get; init; } = new();

    /// <summary>When set, a candidate that is worse calibrated than the champion is not promoted.</summary>
    /// <value>The default value is null (off).</value>
    public CalibrationOptions? Calibration { get; init; }

    /// <summary>Columns of the splits table whose values are segments, e.g. <c>["sex", "race"]</c>: a candidate
    /// worse on any segment large enough is not promoted.</summary>
    /// <value>The default value is empty (off).</value>
    public IReadOnlyList<string> Segments { get; init; } = [];

    /// <summary>Fewest test rows a segment needs (and <see cref="MinClassCount"/> of each class) to be gated;
    /// smaller segments are reported only.</summary>
    /// <value>The default value is 200.</value>
    public int MinSegmentRows { get; init; } = 200;

    /// <summary>A segment blocks the promotion when its ΔAUC is below −margin at the rule's confidence.</summary>
    /// <value>The default value is 0.</value>
    public double SegmentMargin { get; init; }

    /// <summary>The rule's one-sided level, 1 − <see cref="BootstrapRatio"/>.</summary>
    [JsonIgnore] public double Alpha => 1 - BootstrapRatio;

    /// <summary>Every out-of-range value, as (key under <c>evaluate</c>, message); empty when valid.</summary>
    public IReadOnlyList<(string Key, string Message)> Errors()
    {
        var errors = new List<(string, string)>();
        void Check(bool ok, string key, string message) { if (!ok) errors.Add((key, message)); }
        Check(BootstrapRatio is >= 0.5 and < 1, "bootstrapRatio", $"is {Show(BootstrapRatio)}; it must be in [0.5, 1), e.g. 0.95 (a one-sided test at 5%).");
        Check(Resamples >= 100, "resamples", $"is {Resamples}; use at least 100 resamples, e.g. 1000.");
        Check(Seed >= 0, "seed", $"is {Seed}; use a seed of 0 or more.");
        Check(MinAuc is >= 0 and <= 1, "minAuc", $"is {Show(MinAuc)}; it must be between 0 and 1, e.g. 0.75.");
        Check(Threshold is > 0 and < 1, "threshold", $"is {Show(Threshold)}; it must be between 0 and 1, e.g. 0.5.");
        Check(MinClassCount >= 2, "minClassCount", $"is {MinClassCount}; DeLong's variance needs at least 2 rows of each class, e.g. 10.");
        Check(MinSegmentRows >= 1, "minSegmentRows", $"is {MinSegmentRows}; it must be at least 1, e.g. 200.");
        Check(SegmentMargin is >= 0 and < 1, "segmentMargin", $"is {Show(SegmentMargin)}; it must be in [0, 1), e.g. 0.");
        Check(Segments.All(s => !string.IsNullOrWhiteSpace(s)) && Segments.Distinct().Count() == Segments.Count, "segments", "name each segment column once.");
        errors.AddRange(Guard.Errors().Select(e => ($"guard.{e.Key}", e.Message)));
        if (Calibration is { } c) errors.AddRange(c.Errors().Select(e => ($"calibration.{e.Key}", e.Message)));
        return errors;
    }

    /// <summary>Throws <see cref="ConfigException"/> listing every out-of-range option.</summary>
    public void Validate()
    {
        var errors = Errors();
        if (errors.Count > 0)
            throw new ConfigException("The gate options are invalid:" + string.Concat(errors.Select(e => $"{Environment.NewLine}  evaluate.{e.Key} {e.Message}")));
    }

    internal static string Show(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}

/// <summary>How a team guards against an equal candidate replacing the champion over many retrains.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RetrainGuardKind>))]
public enum RetrainGuardKind
{
    /// <summary>Only the rule: over N equal retrains the champion flips with probability 1 − (1 − α)^N.</summary>
    None,
    /// <summary>The one-sided lower bound of ΔAUC must exceed a fixed <see cref="RetrainGuardOptions.Margin"/>.</summary>
    Margin,
    /// <summary>The observed ΔAUC must reach the gain this test set detects with <see cref="RetrainGuardOptions.Power"/> probability.</summary>
    Power,
    /// <summary><see cref="RetrainGuardOptions.TenureAlpha"/> is spent evenly over a tenure of
    /// <see cref="RetrainGuardOptions.Tenure"/> retrains: DeLong's one-sided p must be at most TenureAlpha / Tenure.</summary>
    AlphaSpending,
}

/// <summary>The repeated-retrain guard (<c>evaluate.guard</c>).</summary>
public sealed record RetrainGuardOptions
{
    /// <summary>Which guard applies on top of the rule.</summary>
    /// <value>The default value is <see cref="RetrainGuardKind.AlphaSpending"/>.</value>
    public RetrainGuardKind Kind { get; init; } = RetrainGuardKind.AlphaSpending;

    /// <summary>For <see cref="RetrainGuardKind.Margin"/>: the ΔAUC the one-sided lower bound must exceed.</summary>
    /// <value>The default value is 0.002.</value>
    public double Margin { get; init; } = 0.002;

    /// <summary>For <see cref="RetrainGuardKind.Power"/>: the probability at which the required gain is detectable.</summary>
    /// <value>The default value is 0.9.</value>
    public double Power { get; init; } = 0.9;

    /// <summary>For <see cref="RetrainGuardKind.AlphaSpending"/>: the chance an equal candidate may replace a champion over its tenure.</summary>
    /// <value>The default value is 0.05.</value>
    public double TenureAlpha { get; init; } = 0.05;

    /// <summary>For <see cref="RetrainGuardKind.AlphaSpending"/>: the retrains a champion is planned to face.</summary>
    /// <value>The default value is 20.</value>
    public int Tenure { get; init; } = 20;

    /// <summary>The one-sided level each decision may spend under <see cref="RetrainGuardKind.AlphaSpending"/>.</summary>
    [JsonIgnore] public double AlphaPerDecision => TenureAlpha / Tenure;

    internal IReadOnlyList<(string Key, string Message)> Errors()
    {
        var errors = new List<(string, string)>();
        void Check(bool ok, string key, string message) { if (!ok) errors.Add((key, message)); }
        Check(Enum.IsDefined(Kind), "kind", $"is {(int)Kind}; use none, margin, power or alphaSpending.");
        Check(Margin is >= 0 and < 1, "margin", $"is {GateOptions.Show(Margin)}; it must be in [0, 1), e.g. 0.002.");
        Check(Power is >= 0.5 and < 1, "power", $"is {GateOptions.Show(Power)}; it must be in [0.5, 1), e.g. 0.9.");
        Check(TenureAlpha is > 0 and < 1, "tenureAlpha", $"is {GateOptions.Show(TenureAlpha)}; it must be in (0, 1), e.g. 0.05.");
        Check(Tenure >= 1, "tenure", $"is {Tenure}; it must be at least 1, e.g. 20.");
        return errors;
    }
}

/// <summary>Which calibration figure the calibration criterion compares.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CalibrationMetric>))]
public enum CalibrationMetric
{
    /// <summary>Mean squared error of the probabilities.</summary>
    Brier,
    /// <summary>Expected calibration error over 10 equal-width bins.</summary>
    Ece,
}

/// <summary>The calibration criterion (<c>evaluate.calibration</c>): block a candidate worse calibrated than the champion.</summary>
public sealed record CalibrationOptions
{
    /// <summary>Brier score or expected calibration error.</summary>
    /// <value>The default value is <see cref="CalibrationMetric.Brier"/>.</value>
    public CalibrationMetric Metric { get; init; } = CalibrationMetric.Brier;

    /// <summary>The candidate is worse when the one-sided lower bound of (candidate − champion) exceeds this.</summary>
    /// <value>The default value is 0.</value>
    public double Margin { get; init; }

    internal IReadOnlyList<(string Key, string Message)> Errors() =>
        Margin is >= 0 and < 1 ? [] : [("margin", $"is {GateOptions.Show(Margin)}; it must be in [0, 1), e.g. 0.")];
}
