using CtBuild.Configuration;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Ingest;

/// <summary>
/// Turns the data contract into DuckDB SQL: the typed value of each column and, per row, the first
/// rule it breaks (column and reason), so validation runs vectorised inside DuckDB.
/// </summary>
public sealed class ContractColumns(IngestConfig config, bool typedSource = false)
{
    public IReadOnlyList<string> Names { get; } = config.Columns.Keys.ToList();

    /// <summary>
    /// True when DuckDB already parsed the columns as their contract types while reading (CSV): missing
    /// markers are NULL and values that don't parse were rejected with their line, so only the value rules
    /// (nullable, range, allowed values, label) remain to check.
    /// </summary>
    public bool TypedSource => typedSource;

    /// <summary>The markers of missing values of a column; a typed read can honour only the shared ones.</summary>
    public IReadOnlyList<string> Markers(string column) =>
        config.MissingValues.Concat(config.Columns[column].MissingValues ?? []).Distinct().ToList();

    public static string DuckType(string contractType) => contractType switch
    {
        "int" => "BIGINT",
        "double" => "DOUBLE",
        "bool" => "BOOLEAN",
        _ => "VARCHAR",
    };

    /// <summary>The column's text with every missing-value marker turned into NULL.</summary>
    public string Cleaned(string column)
    {
        var markers = Markers(column);
        var id = Ident(column);
        return markers.Count == 0 || typedSource ? id
            : $"CASE WHEN trim({id}) IN ({string.Join(", ", markers.Select(Literal))}) THEN NULL ELSE {id} END";
    }

    /// <summary>The reason without the offending value, for grouping ("not a valid int").</summary>
    static string RuleOf(string reasonSql)
    {
        if (reasonSql.StartsWith("printf('not a valid")) return reasonSql[8..reasonSql.IndexOf(':')];
        if (reasonSql.Contains("below the minimum")) return "below the minimum";
        if (reasonSql.Contains("above the maximum")) return "above the maximum";
        if (reasonSql.Contains("is not an allowed value")) return "not an allowed value";
        if (reasonSql.Contains("label ''%s'' is not one of")) return "label not in the declared values";
        return reasonSql.Trim('\'');
    }

    public string Typed(string column)
    {
        var type = config.Columns[column].Type;
        return type == "string" || typedSource ? Cleaned(column) : $"TRY_CAST({Cleaned(column)} AS {DuckType(type)})";
    }

    /// <summary>SQL of the first broken rule (column, rule, reason with the value) as three expressions, NULL when the row is good.</summary>
    public (string Column, string Rule, string Reason) FirstViolation()
    {
        var checks = new List<(string Column, string Condition, string Reason)>();
        foreach (var name in Names)
        {
            var c = config.Columns[name];
            var raw = Ident(name);
            var cleaned = Cleaned(name);
            var typed = Typed(name);
            var isLabel = name == config.Label.Column;
            if (!c.Nullable || isLabel)
                checks.Add((name, $"({cleaned}) IS NULL", isLabel ? Literal("label is missing") : Literal("missing value in a non-nullable column")));
            if (c.Type != "string" && !typedSource)
                checks.Add((name, $"({cleaned}) IS NOT NULL AND ({typed}) IS NULL",
                    $"printf('not a valid {c.Type}: %s', {Literal("'")} || left({raw}, 40) || {Literal("'")})"));
            if (c.Min is { } min)
                checks.Add((name, $"({typed}) < {min.ToString(System.Globalization.CultureInfo.InvariantCulture)}", $"printf('%s is below the minimum {min}', ({typed})::VARCHAR)"));
            if (c.Max is { } max)
                checks.Add((name, $"({typed}) > {max.ToString(System.Globalization.CultureInfo.InvariantCulture)}", $"printf('%s is above the maximum {max}', ({typed})::VARCHAR)"));
            if (c.Values is { Count: > 0 } values && !isLabel)
                checks.Add((name, $"({cleaned}) NOT IN ({string.Join(", ", values.Select(Literal))})",
                    $"printf('''%s'' is not an allowed value', left({cleaned}, 40))"));
            if (isLabel)
                checks.Add((name, $"({cleaned}) NOT IN ({string.Join(", ", config.Label.Values.Select(Literal))})",
                    $"printf('label ''%s'' is not one of [{string.Join(", ", config.Label.Values).Replace("'", "''").Replace("%", "%%")}]', left({cleaned}, 40))"));
        }
        if (checks.Count == 0) return ("NULL", "NULL", "NULL");
        var column = "CASE " + string.Join(" ", checks.Select(k => $"WHEN {k.Condition} THEN {Literal(k.Column)}")) + " END";
        var rule = "CASE " + string.Join(" ", checks.Select((k, i) => $"WHEN {k.Condition} THEN {Literal(RuleOf(k.Reason))}")) + " END";
        var reason = "CASE " + string.Join(" ", checks.Select(k => $"WHEN {k.Condition} THEN {k.Reason}")) + " END";
        return (column, rule, reason);
    }
}
