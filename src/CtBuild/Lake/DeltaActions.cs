using System.Text.Json;

namespace CtBuild.Lake;

/// <summary>The <c>protocol</c> action: the versions and features a reader and writer must support.</summary>
internal sealed record ProtocolAction(int MinReaderVersion, int MinWriterVersion,
    IReadOnlyList<string> ReaderFeatures, IReadOnlyList<string> WriterFeatures)
{
    public static ProtocolAction Parse(JsonElement e) => new(
        e.GetProperty("minReaderVersion").GetInt32(),
        e.GetProperty("minWriterVersion").GetInt32(),
        DeltaJson.StringList(e, "readerFeatures"),
        DeltaJson.StringList(e, "writerFeatures"));
}

/// <summary>The <c>metaData</c> action: table id, schema, partitioning and properties.</summary>
internal sealed record MetadataAction(string Id, string? SchemaString, IReadOnlyList<string> PartitionColumns,
    IReadOnlyDictionary<string, string> Configuration, long? CreatedTime)
{
    public static MetadataAction Parse(JsonElement e) => new(
        DeltaJson.String(e, "id") ?? "",
        DeltaJson.String(e, "schemaString"),
        DeltaJson.StringList(e, "partitionColumns"),
        DeltaJson.StringMap(e, "configuration"),
        DeltaJson.Long(e, "createdTime"));
}

/// <summary>The <c>add</c> action: a data file that becomes part of the table.</summary>
internal sealed record AddAction(string Path, IReadOnlyDictionary<string, string?> PartitionValues, long Size,
    long ModificationTime, bool DataChange, string? Stats, bool HasDeletionVector)
{
    public static AddAction Parse(JsonElement e) => new(
        e.GetProperty("path").GetString()!,
        DeltaJson.NullableStringMap(e, "partitionValues"),
        DeltaJson.Long(e, "size") ?? 0,
        DeltaJson.Long(e, "modificationTime") ?? 0,
        DeltaJson.Bool(e, "dataChange") ?? true,
        DeltaJson.String(e, "stats"),
        e.TryGetProperty("deletionVector", out var dv) && dv.ValueKind == JsonValueKind.Object);

    private long? _numRecords;
    private bool _numRecordsRead;

    /// <summary><c>stats.numRecords</c> when the writer recorded it (read once: a snapshot asks for every file's).</summary>
    public long? NumRecords
    {
        get
        {
            if (!_numRecordsRead) (_numRecords, _numRecordsRead) = (DeltaJson.NumRecords(Stats), true);
            return _numRecords;
        }
    }
}

/// <summary>The <c>remove</c> action: a data file that leaves the table (a tombstone).</summary>
internal sealed record RemoveAction(string Path, long? DeletionTimestamp, bool DataChange, string? Stats,
    long? Size, IReadOnlyDictionary<string, string?> PartitionValues)
{
    public static RemoveAction Parse(JsonElement e) => new(
        e.GetProperty("path").GetString()!,
        DeltaJson.Long(e, "deletionTimestamp"),
        DeltaJson.Bool(e, "dataChange") ?? true,
        DeltaJson.String(e, "stats"),
        DeltaJson.Long(e, "size"),
        DeltaJson.NullableStringMap(e, "partitionValues"));

    public long? NumRecords => DeltaJson.NumRecords(Stats);
}

/// <summary>The actions of one commit file (or of a checkpoint), in file order.</summary>
internal sealed record CommitActions(ProtocolAction? Protocol, MetadataAction? Metadata,
    IReadOnlyList<AddAction> Adds, IReadOnlyList<RemoveAction> Removes, JsonElement? CommitInfo)
{
    /// <summary>Parses newline-delimited actions; a line may carry null-valued keys (checkpoint rows as JSON).</summary>
    public static CommitActions Parse(IEnumerable<string> lines, string where)
    {
        ProtocolAction? protocol = null;
        MetadataAction? metadata = null;
        JsonElement? commitInfo = null;
        var adds = new List<AddAction>();
        var removes = new List<RemoveAction>();
        int lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement root;
            try { root = JsonDocument.Parse(line).RootElement; }
            catch (JsonException ex)
            {
                throw new DeltaLogException($"{where} line {lineNumber} is not valid JSON ({ex.Message}). " +
                    "The log entry is corrupt: restore it from a backup or rebuild the table.", ex);
            }
            foreach (var action in root.EnumerateObject())
            {
                if (action.Value.ValueKind != JsonValueKind.Object) continue;
                switch (action.Name)
                {
                    case "protocol": protocol = ProtocolAction.Parse(action.Value); break;
                    case "metaData": metadata = MetadataAction.Parse(action.Value); break;
                    case "add": adds.Add(AddAction.Parse(action.Value)); break;
                    case "remove": removes.Add(RemoveAction.Parse(action.Value)); break;
                    case "commitInfo": commitInfo = action.Value; break;
                    // txn, cdc, domainMetadata and unknown actions do not change what a v1 reader sees.
                }
            }
        }
        return new CommitActions(protocol, metadata, adds, removes, commitInfo);
    }
}

/// <summary>Small readers for optional JSON fields, tolerant of nulls and absent keys.</summary>
internal static class DeltaJson
{
    public static string? String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    public static bool? Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    public static IReadOnlyList<string> StringList(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Select(x => x.GetString() ?? "").ToList()
            : [];

    public static IReadOnlyDictionary<string, string> StringMap(JsonElement e, string name) =>
        NullableStringMap(e, name).Where(kv => kv.Value != null).ToDictionary(kv => kv.Key, kv => kv.Value!);

    public static IReadOnlyDictionary<string, string?> NullableStringMap(JsonElement e, string name)
    {
        var map = new Dictionary<string, string?>();
        if (!e.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Object) return map;
        foreach (var p in v.EnumerateObject())
            map[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()
                : p.Value.ValueKind == JsonValueKind.Null ? null : p.Value.GetRawText();
        return map;
    }

    /// <summary>The top-level <c>numRecords</c> of a stats string, found with a forward scan (no document is built).</summary>
    public static long? NumRecords(string? stats)
    {
        if (string.IsNullOrEmpty(stats)) return null;
        try
        {
            var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(stats));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCount = reader.ValueTextEquals("numRecords");
                reader.Read();
                if (isCount) return reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : null;
                reader.Skip();
            }
            return null;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            return null; // stats are an optimisation; a broken one is "unknown"
        }
    }
}
