using System.Globalization;
using CtBuild.Configuration;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Ingest;

/// <summary>
/// Turns the data contract into DuckDB SQL: the typed value of each column and, per row, the first
/// rule it breaks (column and reason), so validation runs vectorised inside DuckDB.
/// </summary>
/// <param name="typedColumns">
/// The columns whose source values already have their contract type, each with the missing-value markers still to
/// apply to it (compared with the value's text, as the text path would). Their values need no parse and cannot
/// fail one, so only the value rules (nullable, range, allowed values, label) are checked on them. The other
/// columns are text, cast and checked through the contract.
/// </param>
public sealed class ContractColumns(IngestConfig config, IReadOnlyDictionary<string, IReadOnlyList<string>>? typedColumns = null)
{
    readonly IReadOnlyDictionary<string, IReadOnlyList<string>> typed = typedColumns ?? new Dictionary<string, IReadOnlyList<string>>();

    public IReadOnlyList<string> Names { get; } = config.Columns.Keys.ToList();

    /// <summary>
    /// Every column parsed by DuckDB into its contract type while reading (a typed CSV read): missing markers are
    /// already NULL and values that don't parse were rejected with their line.
    /// </summary>
    public static ContractColumns ParsedByReader(IngestConfig config) =>
        new(config, config.Columns.Keys.ToDictionary(k => k, _ => (IReadOnlyList<string>)[]));

    /// <summary>True when the column's source value already has its contract type (see the constructor).</summary>
    public bool IsTyped(string column) => typed.ContainsKey(column);

    /// <summary>True when at least one column is read typed.</summary>
    public bool AnyTyped => typed.Count > 0;

    /// <summary>
    /// True when a source column of DuckDB type <paramref name="duckType"/> holds values of the contract type exactly,
    /// so the text round trip (value → VARCHAR → contract type) would give the same value back: integers that fit
    /// a BIGINT, DOUBLE, BOOLEAN. FLOAT, DECIMAL and UBIGINT stay on the text path, whose result differs from a cast.
    /// </summary>
    public static bool HoldsContractType(string contractType, string duckType) => (contractType, duckType) switch
    {
        ("int", "BIGINT" or "INTEGER" or "SMALLINT" or "TINYINT" or "UINTEGER" or "USMALLINT" or "UTINYINT") => true,
        ("double", "DOUBLE") => true,
        ("bool", "BOOLEAN") => true,
        _ => false,
    };

    /// <summary>
    /// True when a JSON-lines key whose values were all of <paramref name="kinds"/> can be read straight into the column's
    /// contract type with the text path's result: integers for an int, true/false for a bool, numbers for a double that has
    /// no missing marker a number could be (the text of a typed double, "-999.0", would not match the marker "-999").
    /// Nulls are fine everywhere; a string, an object or an array keeps the column on the text path.
    /// </summary>
    public bool JsonHoldsContractType(string column, JsonValueKinds kinds) => config.Columns[column].Type switch
    {
        "int" => (kinds & ~(JsonValueKinds.Null | JsonValueKinds.Integer)) == 0,
        "bool" => (kinds & ~(JsonValueKinds.Null | JsonValueKinds.Bool)) == 0,
        "double" => (kinds & ~(JsonValueKinds.Null | JsonValueKinds.Integer | JsonValueKinds.Number)) == 0 && MarkersATypedValueCouldBe(column).Count == 0,
        _ => false,
    };

    /// <summary>The markers of missing values of a column; a typed read can honour only the shared ones.</summary>
    public IReadOnlyList<string> Markers(string column) =>
        config.MissingValues.Concat(config.Columns[column].MissingValues ?? []).Distinct().ToList();

    /// <summary>
    /// The column's markers that the text of a typed value could equal (an int marker "-1", not "NA"): the only ones
    /// a typed column still compares, so the usual markers cost a typed column nothing.
    /// </summary>
    public IReadOnlyList<string> MarkersATypedValueCouldBe(string column)
    {
        var type = config.Columns[column].Type;
        return Markers(column).Where(m => type switch
        {
            "int" => long.TryParse(m, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _) && !m.StartsWith('+'),
            "double" => double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                        || m.TrimStart('-').ToLowerInvariant() is "inf" or "infinity" or "nan",
            "bool" => m is "true" or "false",
            _ => true,
        }).ToList();
    }

    public static string DuckType(string contractType) => contractType switch
    {
        "int" => "BIGINT",
        "double" => "DOUBLE",
        "bool" => "BOOLEAN",
        _ => "VARCHAR",
    };

    /// <summary>The column's value (text, or typed) with every missing-value marker turned into NULL.</summary>
    public string Cleaned(string column)
    {
        var id = Ident(column);
        if (typed.TryGetValue(column, out var typedMarkers))
            return typedMarkers.Count == 0 ? id
                : $"CASE WHEN CAST({id} AS VARCHAR) IN ({string.Join(", ", typedMarkers.Select(Literal))}) THEN NULL ELSE {id} END";
        var markers = Markers(column);
        return markers.Count == 0 ? id
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
        return type == "string" || IsTyped(column) ? Cleaned(column) : $"TRY_CAST({Cleaned(column)} AS {DuckType(type)})";
    }

    /// <summary>SQL of the first broken rule (column, rule, reason with the value) as three expressions, NULL when the row is good.</summary>
    public (string Column, string Rule, string Reason) FirstViolation()
    {
        var checks = Checks(Cleaned, Typed);
        if (checks.Count == 0) return ("NULL", "NULL", "NULL");
        var column = "CASE " + string.Join(" ", checks.Select(k => $"WHEN {k.Condition} THEN {Literal(k.Column)}")) + " END";
        var rule = "CASE " + string.Join(" ", checks.Select(k => $"WHEN {k.Condition} THEN {Literal(k.Rule)}")) + " END";
        var reason = "CASE " + string.Join(" ", checks.Select(k => $"WHEN {k.Condition} THEN {k.Reason}")) + " END";
        return (column, rule, reason);
    }

    /// <summary>
    /// The contract's checks in the order they are judged (the first one a row breaks is its reason), over the given
    /// SQL of each column's cleaned and typed value: the expressions themselves (<see cref="Cleaned"/>, <see cref="Typed"/>)
    /// or the names of columns a lower projection computed them into once, so a long contract does not repeat them.
    /// </summary>
    public IReadOnlyList<ContractCheck> Checks(Func<string, string> cleanedOf, Func<string, string> typedOf)
    {
        var checks = new List<ContractCheck>();
        void Add(string column, string condition, string reason) => checks.Add(new ContractCheck(column, condition, RuleOf(reason), reason));
        foreach (var name in Names)
        {
            var c = config.Columns[name];
            var raw = Ident(name);
            var cleaned = cleanedOf(name);
            var text = IsTyped(name) && c.Type != "string" ? $"CAST({cleaned} AS VARCHAR)" : cleaned; // the rules that compare text
            var typedValue = typedOf(name);
            var isLabel = name == config.Label.Column;
            if (!c.Nullable || isLabel)
                Add(name, $"({cleaned}) IS NULL", isLabel ? Literal("label is missing") : Literal("missing value in a non-nullable column"));
            if (c.Type != "string" && !IsTyped(name))
                Add(name, $"({cleaned}) IS NOT NULL AND ({typedValue}) IS NULL",
                    $"printf('not a valid {c.Type}: %s', {Literal("'")} || left({raw}, 40) || {Literal("'")})");
            if (c.Min is { } min)
                Add(name, $"({typedValue}) < {min.ToString(CultureInfo.InvariantCulture)}", $"printf('%s is below the minimum {min}', ({typedValue})::VARCHAR)");
            if (c.Max is { } max)
                Add(name, $"({typedValue}) > {max.ToString(CultureInfo.InvariantCulture)}", $"printf('%s is above the maximum {max}', ({typedValue})::VARCHAR)");
            if (c.Values is { Count: > 0 } values && !isLabel)
                Add(name, $"({text}) NOT IN ({string.Join(", ", values.Select(Literal))})", $"printf('''%s'' is not an allowed value', left({text}, 40))");
            if (isLabel)
                Add(name, $"({text}) NOT IN ({string.Join(", ", config.Label.Values.Select(Literal))})",
                    $"printf('label ''%s'' is not one of [{string.Join(", ", config.Label.Values).Replace("'", "''").Replace("%", "%%")}]', left({text}, 40))");
        }
        return checks;
    }
}

/// <summary>One rule of the contract as SQL: the column it is about, the condition that breaks it, its rule name and the SQL of its reason.</summary>
public sealed record ContractCheck(string Column, string Condition, string Rule, string Reason);
