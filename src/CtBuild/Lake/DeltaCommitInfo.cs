using System.Text.Json;

namespace CtBuild.Lake;

/// <summary>Where a version's data came from: the lake tables (and versions) read, the SQL and the config used.</summary>
public sealed record Lineage(IReadOnlyList<LineageSource> Sources, string? SqlHash, string? ConfigHash);

/// <summary>One input of a version: a lake table and the version that was read.</summary>
public sealed record LineageSource(string Table, long Version);

/// <summary>
/// One entry of a table's history. <see cref="Timestamp"/> is the protocol's commit time (the commit
/// file's modification time); <see cref="Fields"/> holds the other string fields of <c>commitInfo</c>
/// (engineInfo, ctbContentDigest, caller extras).
/// </summary>
public sealed record DeltaCommitInfo(long Version, DateTimeOffset Timestamp, string? Operation,
    IReadOnlyDictionary<string, string> OperationParameters, Lineage? Lineage,
    long? RecordsAdded, long? RecordsRemoved, IReadOnlyDictionary<string, string> Fields)
{
    internal const string LineageKey = "ctbLineage";
    internal const string ContentDigestKey = "ctbContentDigest";

    /// <summary>The content digest CtBuild's writer stored, if any.</summary>
    public string? ContentDigest => Fields.GetValueOrDefault(ContentDigestKey);

    internal static DeltaCommitInfo From(long version, DateTimeOffset timestamp, CommitActions actions)
    {
        var info = actions.CommitInfo;
        var parameters = new Dictionary<string, string>();
        var fields = new Dictionary<string, string>();
        Lineage? lineage = null;
        string? operation = null;
        if (info is { } e)
        {
            operation = DeltaJson.String(e, "operation");
            foreach (var kv in DeltaJson.NullableStringMap(e, "operationParameters"))
                if (kv.Value != null) parameters[kv.Key] = kv.Value;
            if (e.TryGetProperty(LineageKey, out var l) && l.ValueKind == JsonValueKind.Object) lineage = ParseLineage(l);
            foreach (var p in e.EnumerateObject())
                if (p.Value.ValueKind == JsonValueKind.String && p.Name != "operation") fields[p.Name] = p.Value.GetString()!;
        }
        return new DeltaCommitInfo(version, timestamp, operation, parameters, lineage,
            SumOrNull(actions.Adds.Select(a => a.NumRecords)), SumOrNull(actions.Removes.Select(r => r.NumRecords)), fields);
    }

    private static long? SumOrNull(IEnumerable<long?> counts)
    {
        long sum = 0;
        foreach (var c in counts)
        {
            if (c is null) return null; // one unknown count makes the total unknown
            sum += c.Value;
        }
        return sum;
    }

    private static Lineage ParseLineage(JsonElement e)
    {
        var sources = e.TryGetProperty("sources", out var s) && s.ValueKind == JsonValueKind.Array
            ? s.EnumerateArray().Select(x => new LineageSource(DeltaJson.String(x, "table") ?? "", DeltaJson.Long(x, "version") ?? -1)).ToList()
            : [];
        return new Lineage(sources, DeltaJson.String(e, "sqlHash"), DeltaJson.String(e, "configHash"));
    }

    internal static void WriteLineage(Utf8JsonWriter w, Lineage lineage)
    {
        w.WriteStartObject(LineageKey);
        w.WriteStartArray("sources");
        foreach (var s in lineage.Sources)
        {
            w.WriteStartObject();
            w.WriteString("table", s.Table);
            w.WriteNumber("version", s.Version);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (lineage.SqlHash != null) w.WriteString("sqlHash", lineage.SqlHash);
        if (lineage.ConfigHash != null) w.WriteString("configHash", lineage.ConfigHash);
        w.WriteEndObject();
    }
}
