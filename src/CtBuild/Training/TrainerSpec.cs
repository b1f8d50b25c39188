using CtBuild.Tuning;
using Microsoft.ML;

namespace CtBuild.Training;

/// <summary>
/// A binary-classification trainer the tuner can use: its parameters with ranges and defaults, the
/// sub-space tuned when a config names it without parameters, and how to build the ML.NET estimator.
/// Every estimator built outputs <c>Score</c>, <c>Probability</c> and <c>PredictedLabel</c>.
/// </summary>
public sealed class TrainerSpec
{
    private readonly Func<MLContext, TrainerValues, string, string, IEstimator<ITransformer>> _build;
    private readonly Lazy<SearchSpace> _defaultSpace;

    internal TrainerSpec(string name, string description, IReadOnlyList<TrainerParameter> parameters, string defaultSpaceJson,
        Func<MLContext, TrainerValues, string, string, IEstimator<ITransformer>> build,
        IReadOnlyDictionary<string, string>? hints = null)
    {
        Name = name;
        Description = description;
        Parameters = parameters;
        Hints = hints ?? new Dictionary<string, string>();
        _build = build;
        _defaultSpace = new(() => SearchSpaceParser.Parse(defaultSpaceJson, $"catalog.{name}.defaultSpace"));
    }

    /// <summary>The name configs use, e.g. "LightGbm".</summary>
    public string Name { get; }

    /// <summary>One line on what the trainer is.</summary>
    public string Description { get; }

    /// <summary>The parameters that matter, in the order they are documented.</summary>
    public IReadOnlyList<TrainerParameter> Parameters { get; }

    /// <summary>The sub-space tuned when a config names this trainer without parameters.</summary>
    public SearchSpace DefaultSpace => _defaultSpace.Value;

    /// <summary>Names from other libraries (e.g. sklearn's <c>alpha</c>) and what to use instead; shown in errors.</summary>
    public IReadOnlyDictionary<string, string> Hints { get; }

    /// <summary>
    /// Builds the ML.NET estimator. Parameters left out keep their defaults; unknown names, wrong types and
    /// values outside a parameter's range are refused with an <see cref="ArgumentException"/>.
    /// </summary>
    /// <param name="threads">Threads the trainer may use; null lets ML.NET use every core. Parallel trials pass 1
    /// so that two trials on two cores don't each start a thread per core and fight over them.</param>
    public IEstimator<ITransformer> Create(MLContext ml, IReadOnlyDictionary<string, object> parameters,
        string labelColumn = "Label", string featuresColumn = "Features", int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(ml);
        var values = new Dictionary<string, object>();
        foreach (var (name, value) in parameters)
        {
            var parameter = Parameters.FirstOrDefault(p => p.Name == name)
                ?? throw new ArgumentException(
                    $"Unknown parameter '{name}' for trainer '{Name}'; its parameters are: {string.Join(", ", Parameters.Select(p => p.Name))}.",
                    nameof(parameters));
            values[name] = parameter.Coerce(value);
        }
        return _build(ml, new TrainerValues(this, values, threads), labelColumn, featuresColumn);
    }

    public override string ToString() => Name;
}

/// <summary>The checked parameter values of one Create call, falling back to each parameter's default.</summary>
internal sealed class TrainerValues(TrainerSpec spec, IReadOnlyDictionary<string, object> values, int? threads = null)
{
    public int? Threads => threads;

    private object? Get(string name) =>
        values.TryGetValue(name, out var v) ? v
        : (spec.Parameters.FirstOrDefault(p => p.Name == name)
           ?? throw new InvalidOperationException($"Trainer '{spec.Name}' reads undeclared parameter '{name}'.")).Default;

    public double? Real(string name) => Get(name) is { } v ? Convert.ToDouble(v) : null;

    public float? Single(string name) => Get(name) is { } v ? (float)Convert.ToDouble(v) : null;

    public int? Int(string name) => Get(name) is { } v ? Convert.ToInt32(v) : null;

    public bool Flag(string name) => (bool)Get(name)!;
}
