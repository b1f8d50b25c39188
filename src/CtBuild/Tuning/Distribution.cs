using System.Globalization;

namespace CtBuild.Tuning;

/// <summary>
/// The range a parameter is drawn from. Every value has an internal <see cref="double"/> form
/// (log of the value for log distributions, the index for categoricals) so samplers work in one numeric space.
/// </summary>
public abstract record Distribution
{
    /// <summary>Lowest internal value a sampler may draw.</summary>
    public abstract double InternalLow { get; }

    /// <summary>Highest internal value a sampler may draw.</summary>
    public abstract double InternalHigh { get; }

    /// <summary>The internal form of an external value.</summary>
    public abstract double ToInternal(object value);

    /// <summary>The external value (double, int, string or bool) of an internal value, snapped to the grid.</summary>
    public abstract object ToExternal(double internalValue);

    /// <summary>The expression this distribution was written as, e.g. <c>loguniform(0.01, 0.3)</c>.</summary>
    public abstract string Describe();

    internal static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// A real parameter on [<paramref name="Low"/>, <paramref name="High"/>]: uniform, log-uniform, and with
/// <paramref name="Step"/> quantised to multiples of the step (Hyperopt's quniform/qloguniform). Values are doubles.
/// </summary>
public sealed record FloatDistribution(double Low, double High, bool Log = false, double? Step = null) : Distribution
{
    // Quantised values are drawn on the interval widened by half a step, so the end points get a full bin.
    private double HalfStep => Step is { } q ? q / 2 : 0;

    public override double InternalLow => Log ? Math.Log(Math.Max(Low - HalfStep, Low / 2)) : Low - HalfStep;

    public override double InternalHigh => Log ? Math.Log(High + HalfStep) : High + HalfStep;

    public override double ToInternal(object value)
    {
        double v = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        return Log ? Math.Log(v) : v;
    }

    public override object ToExternal(double internalValue)
    {
        double v = Log ? Math.Exp(internalValue) : internalValue;
        if (Step is { } q)
        {
            v = Math.Round(v / q) * q;
            // Keep the grid inside the range, even when (High - Low) is not a multiple of q.
            while (v > High + 1e-12 * Math.Abs(High)) v -= q;
            while (v < Low - 1e-12 * Math.Abs(Low)) v += q;
        }
        return Math.Clamp(v, Low, High);
    }

    public override string Describe() => (Log, Step) switch
    {
        (false, null) => $"uniform({Num(Low)}, {Num(High)})",
        (true, null) => $"loguniform({Num(Low)}, {Num(High)})",
        (false, { } q) => $"quniform({Num(Low)}, {Num(High)}, {Num(q)})",
        (true, { } q) => $"qloguniform({Num(Low)}, {Num(High)}, {Num(q)})",
    };
}

/// <summary>An integer parameter on [<paramref name="Low"/>, <paramref name="High"/>] in steps of <paramref name="Step"/> from Low. Values are ints.</summary>
public sealed record IntDistribution(int Low, int High, int Step = 1) : Distribution
{
    public override double InternalLow => Low - Step / 2.0;

    public override double InternalHigh => High + Step / 2.0;

    public override double ToInternal(object value) => Convert.ToDouble(value, CultureInfo.InvariantCulture);

    public override object ToExternal(double internalValue)
    {
        long k = (long)Math.Round((internalValue - Low) / Step);
        long maxK = (High - Low) / Step;
        return (int)(Low + Math.Clamp(k, 0, maxK) * Step);
    }

    public override string Describe() => Step == 1 ? $"int({Low}, {High})" : $"int({Low}, {High}, {Step})";
}

/// <summary>One of a fixed list of values (numbers, strings or booleans); the internal form is the index.</summary>
public sealed record CategoricalDistribution(IReadOnlyList<object> Choices) : Distribution
{
    public override double InternalLow => 0;

    public override double InternalHigh => Choices.Count - 1;

    public override double ToInternal(object value)
    {
        for (int i = 0; i < Choices.Count; i++)
            if (Equals(Choices[i], value)) return i;
        throw new ArgumentException($"Value '{value}' is not one of the choices {Describe()}.", nameof(value));
    }

    public override object ToExternal(double internalValue) =>
        Choices[(int)Math.Clamp(Math.Round(internalValue), 0, Choices.Count - 1)];

    public override string Describe() =>
        "choice(" + string.Join(", ", Choices.Select(c => c switch
        {
            string s => s,
            bool b => b ? "true" : "false",
            double d => Num(d),
            _ => Convert.ToString(c, CultureInfo.InvariantCulture),
        })) + ")";

    // Records compare lists by reference; compare the choices themselves.
    public bool Equals(CategoricalDistribution? other) => other is not null && Choices.SequenceEqual(other.Choices);

    public override int GetHashCode() => Choices.Aggregate(17, (h, c) => h * 31 + (c?.GetHashCode() ?? 0));
}
