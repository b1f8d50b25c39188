using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CtBuild.Lake;

/// <summary>A column of a Delta table. <paramref name="DeltaType"/> is Delta's type name, e.g. "long", "decimal(12,5)", "array&lt;integer&gt;".</summary>
public sealed record DeltaField(string Name, string DeltaType, bool Nullable);

/// <summary>Delta's JSON schema (<c>schemaString</c>) and the mapping between Delta and DuckDB types.</summary>
internal static partial class DeltaSchema
{
    [GeneratedRegex(@"^decimal\((\d+),\s*(\d+)\)$")] private static partial Regex DecimalType();
    [GeneratedRegex(@"^DECIMAL\((\d+),(\d+)\)$")] private static partial Regex DuckDbDecimalType();

    public static IReadOnlyList<DeltaField> Parse(string? schemaString)
    {
        if (string.IsNullOrEmpty(schemaString)) return [];
        var root = JsonDocument.Parse(schemaString).RootElement;
        return root.GetProperty("fields").EnumerateArray()
            .Select(f => new DeltaField(f.GetProperty("name").GetString()!, TypeName(f.GetProperty("type")),
                !f.TryGetProperty("nullable", out var n) || n.GetBoolean()))
            .ToList();
    }

    /// <summary>True when a field carries <c>delta.invariants</c>, which a writer must enforce (we refuse instead).</summary>
    public static bool HasInvariants(string? schemaString) =>
        !string.IsNullOrEmpty(schemaString) && schemaString.Contains("delta.invariants", StringComparison.Ordinal);

    /// <summary>Spark's simple type string: primitives as-is, nested as struct&lt;a:int&gt;, array&lt;t&gt;, map&lt;k,v&gt;.</summary>
    private static string TypeName(JsonElement type)
    {
        if (type.ValueKind == JsonValueKind.String) return type.GetString()!;
        return type.GetProperty("type").GetString() switch
        {
            "struct" => "struct<" + string.Join(",", type.GetProperty("fields").EnumerateArray()
                .Select(f => f.GetProperty("name").GetString() + ":" + TypeName(f.GetProperty("type")))) + ">",
            "array" => "array<" + TypeName(type.GetProperty("elementType")) + ">",
            "map" => "map<" + TypeName(type.GetProperty("keyType")) + "," + TypeName(type.GetProperty("valueType")) + ">",
            var other => other ?? "unknown",
        };
    }

    public static bool IsPrimitive(string deltaType) => !deltaType.Contains('<');

    /// <summary>The DuckDB type a Delta primitive reads as; null for nested types (read as stored).</summary>
    public static string? ToDuckDb(string deltaType)
    {
        var d = DecimalType().Match(deltaType);
        if (d.Success) return $"DECIMAL({d.Groups[1].Value},{d.Groups[2].Value})";
        return deltaType switch
        {
            "string" => "VARCHAR",
            "long" => "BIGINT",
            "integer" => "INTEGER",
            "short" => "SMALLINT",
            "byte" => "TINYINT",
            "float" => "FLOAT",
            "double" => "DOUBLE",
            "boolean" => "BOOLEAN",
            "binary" => "BLOB",
            "date" => "DATE",
            // Delta timestamps are instants (UTC-adjusted); timestamp_ntz is a reader feature we refuse.
            "timestamp" => "TIMESTAMPTZ",
            "void" => "VARCHAR",
            _ => null,
        };
    }

    /// <summary>
    /// The Delta type for a DuckDB column type and the SQL expression that converts the column to the form
    /// written to parquet (e.g. naive TIMESTAMP is taken as UTC and written as an instant).
    /// </summary>
    public static (string DeltaType, string WriteExpression) FromDuckDb(string duckDbType, string quotedColumn)
    {
        var d = DuckDbDecimalType().Match(duckDbType);
        if (d.Success) return ($"decimal({d.Groups[1].Value},{d.Groups[2].Value})", quotedColumn);
        return duckDbType switch
        {
            "VARCHAR" => ("string", quotedColumn),
            "BIGINT" => ("long", quotedColumn),
            "INTEGER" => ("integer", quotedColumn),
            "SMALLINT" => ("short", quotedColumn),
            "TINYINT" => ("byte", quotedColumn),
            "UINTEGER" => ("long", $"CAST({quotedColumn} AS BIGINT)"),
            "USMALLINT" => ("integer", $"CAST({quotedColumn} AS INTEGER)"),
            "UTINYINT" => ("short", $"CAST({quotedColumn} AS SMALLINT)"),
            "DOUBLE" => ("double", quotedColumn),
            "FLOAT" => ("float", quotedColumn),
            "BOOLEAN" => ("boolean", quotedColumn),
            "BLOB" => ("binary", quotedColumn),
            "DATE" => ("date", quotedColumn),
            "TIMESTAMP WITH TIME ZONE" => ("timestamp", quotedColumn),
            "TIMESTAMP" or "TIMESTAMP_S" or "TIMESTAMP_MS" or "TIMESTAMP_NS" =>
                ("timestamp", $"timezone('UTC', CAST({quotedColumn} AS TIMESTAMP))"),
            _ => throw new DeltaWriteException(
                $"Column {quotedColumn} has DuckDB type {duckDbType}, which has no Delta (reader v1) equivalent. " +
                "CAST it in the query to VARCHAR, BIGINT, INTEGER, SMALLINT, TINYINT, DOUBLE, FLOAT, BOOLEAN, " +
                "DECIMAL(p,s) (p ≤ 38), DATE, TIMESTAMP or BLOB."),
        };
    }

    public static string ToSchemaString(IReadOnlyList<DeltaField> fields)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", "struct");
            w.WriteStartArray("fields");
            foreach (var f in fields)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                w.WriteString("type", f.DeltaType);
                w.WriteBoolean("nullable", f.Nullable);
                w.WriteStartObject("metadata");
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    public static string Literal(string value) => "'" + value.Replace("'", "''") + "'";
}
