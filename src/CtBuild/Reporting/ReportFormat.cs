using System.Globalization;

namespace CtBuild.Reporting;

/// <summary>
/// How every number in a report is written, culture-invariant so reports read the same on any machine.
/// Templates call these as functions: <c>{{ x | auc }}</c>, <c>{{ p | p_value }}</c>, ….
/// </summary>
public static class ReportFormat
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    const string Missing = "—";

    /// <summary>AUC and other [0,1] scores: 4 decimals, "0.9123".</summary>
    public static string Auc(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.0000", Inv) : Missing;

    /// <summary>A number with exactly <paramref name="decimals"/> decimals, "0.3960".</summary>
    public static string Fixed(double? value, int decimals = 4) => value is { } v && double.IsFinite(v)
        ? v.ToString("0." + new string('0', Math.Max(decimals, 1)), Inv)
        : Missing;

    /// <summary>A signed difference with 4 decimals, "+0.0123" / "−0.0040".</summary>
    public static string Delta(double? value) => value is { } v && double.IsFinite(v)
        ? (v >= 0 ? "+" : "−") + Math.Abs(v).ToString("0.0000", Inv)
        : Missing;

    /// <summary>A p-value: "0.0040", or "&lt;1e-4" below 0.0001.</summary>
    public static string PValue(double? value) => value switch
    {
        null => Missing,
        < 1e-4 => "<1e-4",
        { } v => v.ToString("0.0000", Inv),
    };

    /// <summary>A ratio as a percentage with one decimal, "97.1%".</summary>
    public static string Percent(double? value) => value is { } v && double.IsFinite(v) ? (v * 100).ToString("0.0", Inv) + "%" : Missing;

    /// <summary>A count with thousands separators, "48,842".</summary>
    public static string Count(long? value) => value is { } v ? v.ToString("#,0", Inv) : Missing;

    /// <summary>A general number with up to <paramref name="decimals"/> decimals, "2.5", "0.031".</summary>
    public static string Number(double? value, int decimals = 3) => value is { } v && double.IsFinite(v)
        ? v.ToString("#,0." + new string('#', Math.Max(decimals, 1)), Inv)
        : Missing;

    /// <summary>A duration: "350 ms", "4.2s", "42s", "1m 20s", "2h 05m".</summary>
    public static string Duration(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1)) return $"{value.TotalMilliseconds.ToString("0", Inv)} ms";
        if (value < TimeSpan.FromSeconds(10)) return $"{value.TotalSeconds.ToString("0.0", Inv)}s";
        if (value < TimeSpan.FromMinutes(1)) return $"{value.TotalSeconds.ToString("0", Inv)}s";
        if (value < TimeSpan.FromHours(1)) return $"{(int)value.TotalMinutes}m {value.Seconds}s";
        return $"{(int)value.TotalHours}h {value.Minutes:00}m";
    }

    /// <summary>A point in time in UTC, "2026-11-27 07:40 UTC".</summary>
    public static string Time(DateTimeOffset value) => value.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", Inv);

    /// <summary>A parameter value: numbers compactly ("0.05", "31", "1.2e-05"), anything else as text.</summary>
    public static string Param(object? value) => value switch
    {
        null => Missing,
        double d when d != 0 && (Math.Abs(d) < 1e-3 || Math.Abs(d) >= 1e6) => d.ToString("0.##e+0", Inv),
        double d => d.ToString("0.####", Inv),
        float f => Param((double)f),
        IFormattable f => f.ToString(null, Inv),
        _ => value.ToString() ?? Missing,
    };

    /// <summary>A model version, "v3", or "—" when there is none.</summary>
    public static string Version(int? value) => value is { } v ? "v" + v.ToString(Inv) : Missing;
}
