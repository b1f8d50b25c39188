using System.Globalization;
using CtBuild.Tuning;

namespace CtBuild.Training;

/// <summary>The value type of a trainer parameter.</summary>
public enum TrainerParameterType { Double, Int, Bool, String }

/// <summary>
/// One knob of a trainer: its name in configs, type, valid range [<paramref name="Min"/>, <paramref name="Max"/>]
/// (numbers only), default (null = ML.NET picks from the data) and what it does.
/// </summary>
public sealed record TrainerParameter(
    string Name, TrainerParameterType Type, double Min, double Max, object? Default, string Description)
{
    /// <summary>Training time grows with the value (trees, leaves, iterations): the low-cost start takes the space's smallest value.</summary>
    public bool CostGrows { get; init; }

    /// <summary>A double parameter.</summary>
    public static TrainerParameter Real(string name, double min, double max, double? @default, string description) =>
        new(name, TrainerParameterType.Double, min, max, @default, description);

    /// <summary>An int parameter.</summary>
    public static TrainerParameter Integer(string name, int min, int max, int? @default, string description) =>
        new(name, TrainerParameterType.Int, min, max, @default, description);

    /// <summary>A bool parameter.</summary>
    public static TrainerParameter Flag(string name, bool @default, string description) =>
        new(name, TrainerParameterType.Bool, 0, 1, @default, description);

    /// <summary>Null when <paramref name="value"/> is valid for this parameter, else what is wrong.</summary>
    public string? Check(object value) => Type switch
    {
        TrainerParameterType.Bool => value is bool ? null : $"'{Name}' must be true or false, but got {Show(value)}",
        TrainerParameterType.String => value is string ? null : $"'{Name}' must be a string, but got {Show(value)}",
        _ when value is not (int or double or float or long) => $"'{Name}' must be a number, but got {Show(value)}",
        TrainerParameterType.Int when !IsWhole(Convert.ToDouble(value, CultureInfo.InvariantCulture)) =>
            $"'{Name}' must be an integer, but got {Show(value)}",
        _ => CheckRange(Convert.ToDouble(value, CultureInfo.InvariantCulture), Convert.ToDouble(value, CultureInfo.InvariantCulture)),
    };

    /// <summary>Null when every value <paramref name="distribution"/> can produce is valid, else what is wrong.</summary>
    public string? Check(Distribution distribution) => distribution switch
    {
        CategoricalDistribution c => c.Choices.Select(Check).FirstOrDefault(e => e is not null),
        _ when Type is TrainerParameterType.Bool or TrainerParameterType.String =>
            $"'{Name}' is {TypeName} and cannot take {distribution.Describe()}; use a constant or choice(...)",
        IntDistribution i => CheckRange(i.Low, i.High),
        FloatDistribution f when Type == TrainerParameterType.Int && !(f.Step is { } q && IsWhole(f.Low) && IsWhole(q)) =>
            $"'{Name}' is an integer, but {f.Describe()} gives non-integer values; use int(lo, hi[, step]) or quniform with integer lo and q",
        FloatDistribution f => CheckRange(f.Low, f.High),
        _ => null,
    };

    /// <summary>Converts a trial value to the parameter's CLR type, refusing values of the wrong type or out of range.</summary>
    /// <exception cref="ArgumentException">The value is invalid; the message says why.</exception>
    public object Coerce(object value)
    {
        if (Check(value) is { } error) throw new ArgumentException(error, Name);
        return Type switch
        {
            TrainerParameterType.Double => Convert.ToDouble(value, CultureInfo.InvariantCulture),
            TrainerParameterType.Int => (int)Math.Round(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            _ => value,
        };
    }

    private string TypeName => Type.ToString().ToLowerInvariant();

    private string? CheckRange(double low, double high) => low < Min || high > Max
        ? $"'{Name}' must be within [{Distribution.Num(Min)}, {Distribution.Num(Max)}], but got "
          + (low == high ? Distribution.Num(low) : $"[{Distribution.Num(low)}, {Distribution.Num(high)}]")
        : null;

    private static bool IsWhole(double v) => Math.Abs(v - Math.Round(v)) < 1e-9;

    private static string Show(object value) => value is string s ? $"\"{s}\"" : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";
}
