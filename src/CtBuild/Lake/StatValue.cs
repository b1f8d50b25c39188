using System.Globalization;
using System.Text.Json;

namespace CtBuild.Lake;

/// <summary>Writes one DuckDB statistic (a string) as a Delta stats value of the column's JSON type.</summary>
internal static class StatValue
{
    /// <summary>Strings longer than this are cut (min) or left out (max): a cut max would not be an upper bound.</summary>
    private const int MaxStringLength = 32;

    public static void Write(Utf8JsonWriter w, DeltaField field, string value, bool isMax)
    {
        var inv = CultureInfo.InvariantCulture;
        switch (field.DeltaType)
        {
            case "long" or "integer" or "short" or "byte" when long.TryParse(value, inv, out var l):
                w.WriteNumber(field.Name, l);
                break;
            case "float" or "double" when double.TryParse(value, inv, out var d) && double.IsFinite(d):
                w.WriteNumber(field.Name, d);
                break;
            case var t when t.StartsWith("decimal", StringComparison.Ordinal) && decimal.TryParse(value, inv, out _):
                w.WritePropertyName(field.Name);
                w.WriteRawValue(value); // keep every digit of the exact decimal text
                break;
            case "string" when value.Length <= MaxStringLength:
                w.WriteString(field.Name, value);
                break;
            case "string" when !isMax:
                w.WriteString(field.Name, value[..MaxStringLength]); // a prefix is still a lower bound
                break;
            case "date":
                w.WriteString(field.Name, value);
                break;
            case "timestamp" when DateTimeOffset.TryParse(value, inv, DateTimeStyles.AssumeUniversal, out var ts):
                // Delta stats hold milliseconds: round the min down and the max up so they stay bounds.
                var ticks = ts.UtcTicks - ts.UtcTicks % TimeSpan.TicksPerMillisecond;
                if (isMax && ticks != ts.UtcTicks) ticks += TimeSpan.TicksPerMillisecond;
                w.WriteString(field.Name, new DateTime(ticks, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", inv));
                break;
            // boolean and binary: no min/max, as Spark does; a missing stat means "unknown".
        }
    }
}
