using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Serving;

/// <summary>A request the server refuses: the HTTP status and what was wrong (record index and field when known).</summary>
public sealed record RequestError(int Status, string Error, int? Record = null, string? Field = null);

/// <summary>
/// Turns a request body into records (text values in the contract's column order, as a raw file would hold
/// them), so the contract judges a JSON number and a CSV field alike. Refuses unknown fields: a typo would
/// otherwise score as a missing value.
/// </summary>
public static class RequestRecords
{
    /// <summary>A JSON array of objects, or one object.</summary>
    public static (List<string?[]>? Records, RequestError? Error) FromJson(ReadOnlyMemory<byte> body, PredictionContract contract)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body); }
        catch (JsonException e) { return (null, new RequestError(400, $"The body is not valid JSON: {e.Message}")); }
        using (doc)
        {
            var root = doc.RootElement;
            var items = root.ValueKind switch
            {
                JsonValueKind.Array => root.EnumerateArray().ToList(),
                JsonValueKind.Object => [root],
                _ => null,
            };
            if (items is null) return (null, new RequestError(400, $"The body must be a JSON array of records or one record (an object), not {root.ValueKind}."));
            if (items.Count == 0) return (null, new RequestError(400, "The body holds no records."));
            var index = Index(contract);
            var records = new List<string?[]>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i].ValueKind != JsonValueKind.Object)
                    return (null, new RequestError(400, $"record {i}: a record must be a JSON object, not {items[i].ValueKind}.", i));
                var values = new string?[contract.Columns.Count];
                foreach (var property in items[i].EnumerateObject())
                {
                    if (property.Name == contract.LabelColumn) continue; // the label of a replayed record is not an input
                    if (!index.TryGetValue(property.Name, out var at))
                        return (null, Unknown(i, property.Name, contract));
                    var text = Text(property.Value);
                    if (text is { Error: { } error }) return (null, new RequestError(400, $"record {i}, field '{property.Name}': {error}", i, property.Name));
                    values[at] = text.Value;
                }
                records.Add(values);
            }
            return (records, null);
        }
    }

    /// <summary>CSV with a header line, read by DuckDB as text (as Ingest reads a raw file).</summary>
    public static (List<string?[]>? Records, RequestError? Error) FromCsv(DuckDBConnection db, string path, PredictionContract contract)
    {
        List<string> header;
        List<string?[]> rows;
        try
        {
            var read = $"read_csv({Literal(path)}, header = true, all_varchar = true, auto_detect = true, delim = ',', quote = '\"', escape = '\"')";
            header = db.Query($"DESCRIBE SELECT * FROM {read}", r => r.GetString(0));
            rows = db.Query($"SELECT * FROM {read}", r => Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? null : r.GetString(i)).ToArray());
        }
        catch (DuckDBException e) { return (null, new RequestError(400, $"The CSV body could not be read: {e.Message}")); }
        if (rows.Count == 0) return (null, new RequestError(400, "The CSV body holds a header but no records."));
        var index = Index(contract);
        var positions = new int[header.Count];
        for (var h = 0; h < header.Count; h++)
        {
            if (header[h] == contract.LabelColumn) { positions[h] = -1; continue; }
            if (!index.TryGetValue(header[h], out positions[h])) return (null, Unknown(null, header[h], contract));
        }
        var records = rows.Select(row =>
        {
            var values = new string?[contract.Columns.Count];
            for (var h = 0; h < header.Count; h++) if (positions[h] >= 0) values[positions[h]] = row[h];
            return values;
        }).ToList();
        return (records, null);
    }

    static Dictionary<string, int> Index(PredictionContract contract) =>
        contract.Columns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);

    static RequestError Unknown(int? record, string field, PredictionContract contract) => new(400,
        $"{(record is { } i ? $"record {i}: " : "")}unknown field '{field}'; the data contract has {string.Join(", ", contract.Columns)}.", record, field);

    static (string? Value, string? Error) Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => (null, null),
        JsonValueKind.String => (value.GetString(), null),
        JsonValueKind.Number => (value.GetRawText(), null),
        JsonValueKind.True => ("true", null),
        JsonValueKind.False => ("false", null),
        _ => (null, $"expected a string, number, boolean or null, not {value.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture)}"),
    };
}
