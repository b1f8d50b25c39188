using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CtBuild.Lake;

/// <summary>What a checkpoint write produced: its version, action rows, size and live files.</summary>
public sealed record CheckpointInfo(long Version, long Size, long SizeInBytes, long NumOfAddFiles);

/// <summary>
/// Writes a classic Delta checkpoint, <c>&lt;v&gt;.checkpoint.parquet</c>, in the column layout Spark writes
/// (<c>txn</c>, <c>add</c>, <c>remove</c>, <c>metaData</c>, <c>protocol</c> structs, one non-null per row;
/// checked against the golden tables' checkpoints), then the <c>_last_checkpoint</c> hint.
/// Both go to a temporary file first and are renamed into place, so a crash leaves either no checkpoint
/// or a whole one; a reader never sees a partial file. Renaming over an existing checkpoint of the same
/// version is harmless: both hold the same state.
/// </summary>
internal static class CheckpointWriter
{
    public const string TempPattern = ".ctb-checkpoint-*.tmp";
    public const string LastCheckpointName = "_last_checkpoint";

    /// <summary>Tombstones kept in a checkpoint when the table sets no <c>delta.deletedFileRetentionDuration</c>.</summary>
    public static readonly TimeSpan DefaultTombstoneRetention = TimeSpan.FromDays(7);

    // The struct types of Spark's checkpoint schema for reader v1 / writer v2 tables (deletion vectors,
    // row ids and domain metadata belong to table features CtBuild does not write).
    private const string Columns =
        "txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)', " +
        "\"add\": 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, " +
        "dataChange BOOLEAN, tags MAP(VARCHAR, VARCHAR), stats VARCHAR)', " +
        "remove: 'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, " +
        "partitionValues MAP(VARCHAR, VARCHAR), size BIGINT)', " +
        "metaData: 'STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), " +
        "schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)', " +
        "protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])'";

    public static string CheckpointPath(string tableFolder, long version) =>
        Path.Combine(tableFolder, "_delta_log", version.ToString("D20", CultureInfo.InvariantCulture) + ".checkpoint.parquet");

    /// <summary>Writes the checkpoint of <paramref name="state"/>; its commit must already exist.</summary>
    public static CheckpointInfo Write(string tableFolder, TableState state, DateTimeOffset now)
    {
        var logFolder = Path.Combine(tableFolder, "_delta_log");
        if (!File.Exists(DeltaLogFolder.CommitPath(tableFolder, state.Version)))
            throw new InvalidOperationException($"Version {state.Version} of {tableFolder} is not committed; a checkpoint follows its commit.");
        var retention = TombstoneRetention(state.Metadata);
        var cutoff = (now - retention).ToUnixTimeMilliseconds();
        var tombstones = state.Tombstones.Where(r => (r.DeletionTimestamp ?? 0) >= cutoff).ToList();

        var id = Guid.NewGuid().ToString("N");
        var rowsPath = Path.Combine(logFolder, $".ctb-checkpoint-{id}.json.tmp");
        var parquetPath = Path.Combine(logFolder, $".ctb-checkpoint-{id}.parquet.tmp");
        try
        {
            long rows = WriteRows(rowsPath, state, tombstones);
            using (var connection = DuckDbQuery.OpenShared())
                DuckDbQuery.Execute(connection,
                    $"COPY (SELECT txn, \"add\", remove, metaData, protocol FROM read_json({DeltaSchema.Literal(rowsPath)}, " +
                    $"format='newline_delimited', columns={{{Columns}}}, maximum_object_size=1073741824)) " +
                    $"TO {DeltaSchema.Literal(parquetPath)} (FORMAT parquet, COMPRESSION snappy)");
            FlushToDisk(parquetPath);
            CtBuild.Pipeline.FaultInjection.Point($"lake.after-checkpoint-temp:{Path.GetFileName(tableFolder)}", parquetPath);
            var target = CheckpointPath(tableFolder, state.Version);
            File.Move(parquetPath, target, overwrite: true);
            var info = new CheckpointInfo(state.Version, rows, new FileInfo(target).Length, state.LiveFiles.Count);
            WriteLastCheckpoint(logFolder, info);
            return info;
        }
        finally
        {
            File.Delete(rowsPath);
            File.Delete(parquetPath);
        }
    }

    /// <summary>The table's <c>delta.deletedFileRetentionDuration</c> ("interval 7 days"), else 7 days.</summary>
    public static TimeSpan TombstoneRetention(MetadataAction metadata) =>
        metadata.Configuration.TryGetValue("delta.deletedFileRetentionDuration", out var text) && DeltaInterval.TryParse(text, out var span)
            ? span : DefaultTombstoneRetention;

    private static long WriteRows(string path, TableState state, IReadOnlyList<RemoveAction> tombstones)
    {
        long rows = 0;
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        void Row(Action<Utf8JsonWriter> write)
        {
            using (var w = new Utf8JsonWriter(stream))
            {
                w.WriteStartObject();
                write(w);
                w.WriteEndObject();
            }
            stream.WriteByte((byte)'\n');
            rows++;
        }

        Row(w =>
        {
            w.WriteStartObject("protocol");
            w.WriteNumber("minReaderVersion", state.Protocol.MinReaderVersion);
            w.WriteNumber("minWriterVersion", state.Protocol.MinWriterVersion);
            if (state.Protocol.MinReaderVersion >= 3) WriteStrings(w, "readerFeatures", state.Protocol.ReaderFeatures);
            if (state.Protocol.MinWriterVersion >= 7) WriteStrings(w, "writerFeatures", state.Protocol.WriterFeatures);
            w.WriteEndObject();
        });
        Row(w => DeltaWriter.WriteMetadata(w, state.Metadata));
        // In a checkpoint every file action has dataChange=false, as Spark writes them: the rows restate the table.
        foreach (var add in state.LiveFiles)
            Row(w =>
            {
                w.WriteStartObject("add");
                w.WriteString("path", add.Path);
                DeltaWriter.WritePartitionValues(w, add.PartitionValues);
                w.WriteNumber("size", add.Size);
                w.WriteNumber("modificationTime", add.ModificationTime);
                w.WriteBoolean("dataChange", false);
                if (add.Stats != null) w.WriteString("stats", add.Stats);
                w.WriteEndObject();
            });
        foreach (var r in tombstones)
            Row(w =>
            {
                w.WriteStartObject("remove");
                w.WriteString("path", r.Path);
                if (r.DeletionTimestamp is { } t) w.WriteNumber("deletionTimestamp", t);
                w.WriteBoolean("dataChange", false);
                w.WriteBoolean("extendedFileMetadata", r.Size is not null);
                DeltaWriter.WritePartitionValues(w, r.PartitionValues);
                if (r.Size is { } size) w.WriteNumber("size", size);
                w.WriteEndObject();
            });
        stream.Flush(flushToDisk: true);
        return rows;
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    /// <summary>The hint readers use to find the checkpoint without listing; replaced atomically too.</summary>
    private static void WriteLastCheckpoint(string logFolder, CheckpointInfo info)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", info.Version);
            w.WriteNumber("size", info.Size);
            w.WriteNumber("sizeInBytes", info.SizeInBytes);
            w.WriteNumber("numOfAddFiles", info.NumOfAddFiles);
            w.WriteEndObject();
        }
        var temp = Path.Combine(logFolder, $".ctb-checkpoint-{Guid.NewGuid():N}.last.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(buffer.ToArray());
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, Path.Combine(logFolder, LastCheckpointName), overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static void FlushToDisk(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Flush(flushToDisk: true);
    }
}

/// <summary>Delta's interval strings for table properties, e.g. <c>interval 7 days</c>, <c>interval 168 hours</c>.</summary>
internal static partial class DeltaInterval
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^\s*(?:interval\s+)?(\d+)\s+(week|day|hour|minute|second)s?\s*$", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex Pattern();

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var m = Pattern().Match(text);
        if (!m.Success) return false;
        var n = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        value = m.Groups[2].Value.ToLowerInvariant() switch
        {
            "week" => TimeSpan.FromDays(7 * n),
            "day" => TimeSpan.FromDays(n),
            "hour" => TimeSpan.FromHours(n),
            "minute" => TimeSpan.FromMinutes(n),
            _ => TimeSpan.FromSeconds(n),
        };
        return true;
    }
}
