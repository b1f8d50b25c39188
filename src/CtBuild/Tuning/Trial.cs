using System.Globalization;

namespace CtBuild.Tuning;

/// <summary>
/// A live trial handed to the objective: its number and parameter values. Finish it with
/// <see cref="Study.Tell"/> or <see cref="Study.Fail"/>, which record an immutable <see cref="FrozenTrial"/>.
/// </summary>
public sealed class Trial
{
    internal Trial(int number, IReadOnlyDictionary<string, object> parameters, DateTimeOffset start)
    {
        Number = number;
        Params = parameters;
        Start = start;
    }

    /// <summary>0-based order in which the trial was asked for.</summary>
    public int Number { get; }

    /// <summary>Parameter values: ints as int, reals as double, choices as their value.</summary>
    public IReadOnlyDictionary<string, object> Params { get; }

    /// <summary>When the trial was asked for.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>The value of a numeric parameter as a double.</summary>
    public double GetDouble(string name) => Convert.ToDouble(Get(name), CultureInfo.InvariantCulture);

    /// <summary>The value of a string parameter or choice.</summary>
    public string GetString(string name) => Get(name) as string
        ?? throw new InvalidOperationException($"Trial parameter '{name}' is {Get(name)}, not a string.");

    private object Get(string name) => Params.TryGetValue(name, out var value)
        ? value
        : throw new KeyNotFoundException($"Trial #{Number} has no parameter '{name}'; it has: {string.Join(", ", Params.Keys)}.");
}
