using System.Globalization;
using System.Text.RegularExpressions;

namespace CtBuild.Tuning;

/// <summary>
/// Parses Hyperopt-like expression strings: <c>uniform(lo, hi)</c>, <c>loguniform(lo, hi)</c>,
/// <c>quniform(lo, hi, q)</c>, <c>qloguniform(lo, hi, q)</c>, <c>int(lo, hi)</c>, <c>int(lo, hi, step)</c>
/// and <c>choice(a, b, ...)</c> with numbers, strings or true/false.
/// </summary>
public static partial class SearchExpression
{
    /// <summary>The function names understood inside expression strings.</summary>
    public static IReadOnlyList<string> Functions { get; } = ["uniform", "loguniform", "quniform", "qloguniform", "int", "choice"];

    [GeneratedRegex(@"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", RegexOptions.Singleline)]
    private static partial Regex CallPattern();

    [GeneratedRegex(@"^\s*[A-Za-z_]\w*\s*\(")]
    private static partial Regex CallStart();

    /// <summary>True when <paramref name="text"/> starts like a call, <c>name(</c>, and so must be a valid expression rather than a string constant.</summary>
    public static bool LooksLikeExpression(string text) => CallStart().IsMatch(text);

    /// <summary>Parses one expression; returns null and sets <paramref name="error"/> when it is malformed or out of range.</summary>
    public static Distribution? TryParse(string text, out string? error)
    {
        error = null;
        var match = CallPattern().Match(text);
        if (!match.Success)
        {
            error = $"'{text}' is not a well-formed expression; expected name(arg, ...) with name one of {string.Join(", ", Functions)}";
            return null;
        }
        string function = match.Groups[1].Value;
        string argText = match.Groups[2].Value.Trim();
        var args = argText.Length == 0 ? [] : argText.Split(',').Select(a => ParseValue(a.Trim())).ToArray();
        try
        {
            return function switch
            {
                "uniform" => Float(function, args, log: false, quantised: false),
                "loguniform" => Float(function, args, log: true, quantised: false),
                "quniform" => Float(function, args, log: false, quantised: true),
                "qloguniform" => Float(function, args, log: true, quantised: true),
                "int" => Int(args),
                "choice" => Choice(args),
                _ => throw new FormatException(
                    $"unknown function '{function}' in '{text}'; expected one of {string.Join(", ", Functions)}"),
            };
        }
        catch (FormatException e)
        {
            error = e.Message.Contains('\'' + text + '\'') ? e.Message : $"{e.Message} in '{text}'";
            return null;
        }
    }

    /// <summary>A bare argument: int, double, true/false, or a string (quotes optional).</summary>
    internal static object ParseValue(string token)
    {
        if (token.Length >= 2 && (token[0] == '"' || token[0] == '\'') && token[^1] == token[0]) return token[1..^1];
        if (token is "true" or "True") return true;
        if (token is "false" or "False") return false;
        if (int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i)) return i;
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        return token;
    }

    private static FloatDistribution Float(string function, object[] args, bool log, bool quantised)
    {
        int expected = quantised ? 3 : 2;
        if (args.Length != expected)
            throw new FormatException($"{function}() takes {expected} numbers, got {args.Length}");
        double lo = Number(function, args[0], "lo"), hi = Number(function, args[1], "hi");
        double? q = quantised ? Number(function, args[2], "q") : null;
        if (lo >= hi) throw new FormatException($"{function}(): lo < hi must hold, but got lo={Distribution.Num(lo)}, hi={Distribution.Num(hi)}");
        if (log && lo <= 0) throw new FormatException($"{function}(): log bounds must be > 0, but got lo={Distribution.Num(lo)}");
        if (q is <= 0) throw new FormatException($"{function}(): q must be > 0, but got q={Distribution.Num(q.Value)}");
        return new FloatDistribution(lo, hi, log, q);
    }

    private static IntDistribution Int(object[] args)
    {
        if (args.Length is not (2 or 3))
            throw new FormatException($"int() takes (lo, hi) or (lo, hi, step), got {args.Length} argument(s)");
        var ints = args.Select((a, k) => a is int i ? i
            : throw new FormatException($"int(): {(k == 2 ? "step" : k == 0 ? "lo" : "hi")} must be an integer, but got '{a}'")).ToArray();
        int step = ints.Length == 3 ? ints[2] : 1;
        if (ints[0] >= ints[1]) throw new FormatException($"int(): lo < hi must hold, but got lo={ints[0]}, hi={ints[1]}");
        if (step <= 0) throw new FormatException($"int(): step must be > 0, but got step={step}");
        return new IntDistribution(ints[0], ints[1], step);
    }

    private static CategoricalDistribution Choice(object[] args)
    {
        if (args.Length == 0) throw new FormatException("choice() needs at least one value");
        if (args.Distinct().Count() != args.Length) throw new FormatException("choice() lists a value twice");
        return new CategoricalDistribution(args);
    }

    private static double Number(string function, object arg, string name) => arg switch
    {
        int i => i,
        double d => d,
        _ => throw new FormatException($"{function}(): {name} must be a number, but got '{arg}'"),
    };
}
