using System.Globalization;

namespace CtBuild.Tuning;

/// <summary>
/// A live trial handed to the objective: its number and parameter values. Finish it with
/// <see cref="Study.Tell"/> or <see cref="Study.Fail"/>, which record an immutable <see cref="FrozenTrial"/>.
/// </summary>
public sealed class Trial
{
    private readonly Study? _study;

    internal Trial(int number, IReadOnlyDictionary<string, object> parameters, DateTimeOffset start, Study? study = null)
    {
        Number = number;
        Params = parameters;
        Start = start;
        _study = study;
    }

    /// <summary>0-based order in which the trial was claimed in its study.</summary>
    public int Number { get; }

    /// <summary>Parameter values: ints as int, reals as double, choices as their value.</summary>
    public IReadOnlyDictionary<string, object> Params { get; }

    /// <summary>When the trial was claimed.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>The value of a numeric parameter as a double.</summary>
    public double GetDouble(string name) => Convert.ToDouble(Get(name), CultureInfo.InvariantCulture);

    /// <summary>The value of a string parameter or choice.</summary>
    public string GetString(string name) => Get(name) as string
        ?? throw new InvalidOperationException($"Trial #{Number} parameter '{name}' is {Get(name)}, not a string.");

    /// <summary>Records the value reached at <paramref name="step"/> (a successive-halving rung) in the study's storage.</summary>
    public void Report(int step, double value) =>
        (_study ?? throw new InvalidOperationException($"Trial #{Number} belongs to no study.")).ReportIntermediate(Number, step, value);

    /// <summary>
    /// After <see cref="Report"/> of <paramref name="step"/>: true when the study's successive halving stops this trial
    /// at that rung (it is not among the best 1/η there); the objective then throws <see cref="TrialPrunedException"/>.
    /// Always false without a pruner and at the last rung.
    /// </summary>
    public bool ShouldPrune(int step) =>
        (_study ?? throw new InvalidOperationException($"Trial #{Number} belongs to no study.")).ShouldPrune(Number, step);

    private object Get(string name) => Params.TryGetValue(name, out var value)
        ? value
        : throw new KeyNotFoundException($"Trial #{Number} has no parameter '{name}'; it has: {string.Join(", ", Params.Keys)}.");
}
