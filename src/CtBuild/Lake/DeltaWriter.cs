using System.Collections;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;

namespace CtBuild.Lake;

/// <summary>How a write relates to the rows already in the table.</summary>
public enum WriteMode { Append, Overwrite }

/// <summary>
/// What a write did: the version it made (or the current one when it wrote nothing), and the checkpoint
/// written after it, if one was due. A checkpoint that failed leaves the commit in place and says why in
/// <see cref="CheckpointError"/>: readers replay the log instead.
/// </summary>
public sealed record DeltaCommitResult(long Version, bool Committed, long RowsWritten, string? ContentDigest)
{
    public CheckpointInfo? Checkpoint { get; init; }
    public string? CheckpointError { get; init; }
}

/// <summary>
/// Writes the rows of a DuckDB SELECT as a new table version: one parquet file via
/// <c>COPY (...) TO ... (FORMAT parquet, RETURN_STATS)</c>, then a commit created only if its version is
/// still free. A writer that loses the race re-reads the log and retries when the winner's changes do
/// not conflict (appends never conflict with appends), or throws <see cref="DeltaConflictException"/>.
/// </summary>
public sealed class DeltaWriter(DuckDBConnection connection)
{
    private const string EngineInfo = "CtBuild/0.1";
    private const int MaxAttempts = 20;

    /// <summary>
    /// When true, an overwrite that lost the race to another commit is retried against the new latest
    /// version (removing whatever is live then) instead of failing. Last writer wins.
    /// </summary>
    public bool RetryOverwriteOnConflict { get; init; }

    /// <summary>Spark's default <c>delta.checkpointInterval</c>.</summary>
    public const int DefaultCheckpointInterval = 10;

    /// <summary>
    /// A checkpoint is written after every commit whose version is a multiple of this (0: never). The
    /// table property <c>delta.checkpointInterval</c>, when set, wins, as it does in Spark.
    /// </summary>
    public int CheckpointInterval { get; init; } = DefaultCheckpointInterval;

    /// <summary>Called with the version about to be committed; lets tests interleave a competing writer.</summary>
    internal Action<long>? BeforeCommitAttempt { get; init; }

    /// <summary>
    /// Writes <paramref name="selectSql"/>'s rows. With <paramref name="skipIfContentUnchanged"/>, nothing
    /// is committed when the latest version holds a write with the same content digest and schema.
    /// </summary>
    public DeltaCommitResult Write(DeltaTable table, string selectSql, WriteMode mode, string operation,
        IReadOnlyDictionary<string, string>? operationParameters = null, Lineage? lineage = null,
        bool skipIfContentUnchanged = false, IReadOnlyDictionary<string, string>? extraCommitInfo = null)
    {
        using var write = Begin(table);
        var file = write.Add(selectSql);
        var digest = ContentDigest(file.FullPath, write.Fields);
        return write.Commit(mode, operation, operationParameters, lineage, extraCommitInfo, digest, skipIfContentUnchanged);
    }

    /// <summary>
    /// Starts a write of several data files committed as one version, based on the latest version now.
    /// Add files with <see cref="PendingWrite.Add"/>, then <see cref="PendingWrite.Commit"/>; disposing
    /// an uncommitted write deletes its files.
    /// </summary>
    public PendingWrite Begin(DeltaTable table) => new(this, table, ReadLatest(table));

    /// <summary>A write in progress: data files written one query at a time, then committed together (or deleted).</summary>
    public sealed class PendingWrite : IDisposable
    {
        readonly DeltaWriter _writer;
        readonly List<NewFile> _files = [];
        readonly List<string> _paths = [];
        readonly List<DeltaField> _fields = [];
        TableState? _read;
        bool _committed;

        internal PendingWrite(DeltaWriter writer, DeltaTable table, TableState? read) => (_writer, Table, _read) = (writer, table, read);

        public DeltaTable Table { get; }

        /// <summary>The schema of the files added so far (the union of their columns).</summary>
        public IReadOnlyList<DeltaField> Fields => _fields;

        /// <summary>Runs the query into one new Parquet file of this write; returns its path and row count.</summary>
        public AddedFile Add(string selectSql)
        {
            if (_committed) throw new InvalidOperationException("This write is already committed.");
            var (add, fields, path) = _writer.WriteDataFile(Table, selectSql);
            _paths.Add(path);
            try { MergeFields(fields); }
            catch { File.Delete(path); _paths.Remove(path); throw; }
            _files.Add(add);
            CtBuild.Pipeline.FaultInjection.Point($"lake.after-data-file:{Path.GetFileName(Table.Folder)}", path);
            return new AddedFile(path, add.Rows);
        }

        void MergeFields(IReadOnlyList<DeltaField> fields)
        {
            foreach (var f in fields)
            {
                var known = _fields.FirstOrDefault(g => g.Name.Equals(f.Name, StringComparison.OrdinalIgnoreCase));
                if (known is null) _fields.Add(f);
                else if (known.DeltaType != f.DeltaType)
                    throw new DeltaWriteException($"Table {Table.Folder}: column '{f.Name}' is {known.DeltaType} in one file of this write and {f.DeltaType} in another. CAST it the same way in every query.");
            }
        }

        /// <summary>Commits the added files as the next version (see <see cref="DeltaWriter.Write"/> for the conflict rules).</summary>
        public DeltaCommitResult Commit(WriteMode mode, string operation, IReadOnlyDictionary<string, string>? operationParameters = null,
            Lineage? lineage = null, IReadOnlyDictionary<string, string>? extraCommitInfo = null,
            string? contentDigest = null, bool skipIfContentUnchanged = false)
        {
            if (_committed) throw new InvalidOperationException("This write is already committed.");
            if (_files.Count == 0) throw new InvalidOperationException("Add at least one data file before committing.");
            // Files without rows add nothing but clutter; an all-empty write keeps one, so the commit still has a file.
            var files = _files.Where(f => f.Rows > 0).DefaultIfEmpty(_files[0]).ToList();
            foreach (var unused in _files.Except(files)) File.Delete(Path.Combine(Table.Folder, unused.Path)); // before the commit: no leftover if killed
            var result = _writer.CommitFiles(Table, ref _read, files, _fields, mode, operation, operationParameters, lineage,
                extraCommitInfo, contentDigest, skipIfContentUnchanged);
            _committed = result.Committed; // not committed (content unchanged): Dispose deletes the files
            return result;
        }

        public void Dispose()
        {
            if (_committed) return;
            foreach (var path in _paths) File.Delete(path); // not committed: nothing references them
            _paths.Clear();
        }
    }

    /// <summary>A data file added to a pending write.</summary>
    public sealed record AddedFile(string FullPath, long Rows);

    private DeltaCommitResult CommitFiles(DeltaTable table, ref TableState? read, IReadOnlyList<NewFile> files, IReadOnlyList<DeltaField> fields,
        WriteMode mode, string operation, IReadOnlyDictionary<string, string>? operationParameters, Lineage? lineage,
        IReadOnlyDictionary<string, string>? extraCommitInfo, string? digest, bool skipIfContentUnchanged)
    {
        for (int attempt = 1; ; attempt++)
        {
            if (skipIfContentUnchanged && digest != null && read != null && LatestDigest(table, read.Version) == digest
                && SameSchema(DeltaSchema.Parse(read.Metadata.SchemaString), fields))
                return new DeltaCommitResult(read.Version, false, 0, digest);
            var newMetadata = PlanMetadata(table, read, fields, mode);
            var version = read is null ? 0 : read.Version + 1;
            var removes = mode == WriteMode.Overwrite && read != null ? read.LiveFiles : [];
            var commit = CommitText(read, newMetadata, mode, removes, files, dataChange: true, operation, operationParameters, lineage, digest, extraCommitInfo);
            BeforeCommitAttempt?.Invoke(version);
            if (CommitFile.TryCreate(table.Folder, version, commit))
                return WithCheckpoint(table, new DeltaCommitResult(version, true, files.Sum(f => f.Rows), digest), newMetadata ?? read!.Metadata);

            // Another writer took this version: re-read and decide whether our commit still makes sense.
            var latest = ReadLatest(table)!;
            var conflict = FindConflict(table, read, latest, mode, fields);
            if (conflict != null || attempt >= MaxAttempts)
                throw new DeltaConflictException(
                    $"Table {table.Folder}: this {mode.ToString().ToLowerInvariant()} ({operation}) was based on version " +
                    $"{(read is null ? "none (new table)" : read.Version)}, but version {version} was committed by another writer " +
                    $"(latest is now {latest.Version}); {conflict ?? $"gave up after {attempt} attempts"}. Nothing was committed. " +
                    "Re-run the step so it reads the new snapshot" +
                    (mode == WriteMode.Overwrite ? ", or set RetryOverwriteOnConflict to let the last writer win." : "."));
            read = latest;
        }
    }

    /// <summary>
    /// Commits a rearrangement of the files of <paramref name="read"/> (compaction): <paramref name="removed"/>
    /// leave and <paramref name="added"/> join, all with <c>dataChange=false</c>, in one commit. Appends by
    /// other writers in between are fine (retried on top); a commit that removed one of our files, or
    /// changed protocol or metadata, is a conflict: nothing is committed and our new files are deleted.
    /// </summary>
    internal DeltaCommitResult CommitRewrite(DeltaTable table, TableState read, IReadOnlyList<AddAction> removed,
        IReadOnlyList<NewFile> added, string operation, IReadOnlyDictionary<string, string> operationParameters)
    {
        var removedPaths = removed.Select(r => LogReplay.DecodePath(r.Path)).ToHashSet(StringComparer.Ordinal);
        var digest = LatestDigest(table, read.Version); // the rows are unchanged, so is the content digest
        for (int attempt = 1; ; attempt++)
        {
            var version = read.Version + 1;
            var commit = CommitText(read, null, null, removed, added, dataChange: false, operation, operationParameters, null, digest, null);
            BeforeCommitAttempt?.Invoke(version);
            if (CommitFile.TryCreate(table.Folder, version, commit))
                return WithCheckpoint(table, new DeltaCommitResult(version, true, 0, digest), read.Metadata);

            var latest = ReadLatest(table)!;
            var log = DeltaLogFolder.List(table.Folder);
            string? conflict = null;
            for (long v = read.Version + 1; v <= latest.Version && conflict is null; v++)
            {
                var winner = log.ReadCommit(v);
                if (winner.Protocol != null || winner.Metadata != null) conflict = $"version {v} changed the table's protocol or metadata";
                else if (winner.Removes.FirstOrDefault(r => removedPaths.Contains(LogReplay.DecodePath(r.Path))) is { } gone)
                    conflict = $"version {v} removed {gone.Path}, one of the files this {operation} rewrites";
            }
            if (conflict != null || attempt >= MaxAttempts)
            {
                foreach (var f in added) File.Delete(Path.Combine(table.Folder, f.Path));
                throw new DeltaConflictException(
                    $"Table {table.Folder}: this {operation} was based on version {read.Version}, but {conflict ?? $"it gave up after {attempt} attempts"}. " +
                    "Nothing was committed and the rewritten files were deleted. Run it again: it plans from the new latest version.");
            }
            read = latest;
        }
    }

    /// <summary>Writes the checkpoint due at the result's version, if any; a failure is recorded, never thrown.</summary>
    private DeltaCommitResult WithCheckpoint(DeltaTable table, DeltaCommitResult result, MetadataAction metadata)
    {
        var interval = metadata.Configuration.TryGetValue("delta.checkpointInterval", out var text)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var fromTable) && fromTable > 0
            ? fromTable : CheckpointInterval;
        if (interval <= 0 || result.Version == 0 || result.Version % interval != 0) return result;
        try
        {
            var state = LogReplay.Replay(DeltaLogFolder.List(table.Folder), result.Version);
            return result with { Checkpoint = CheckpointWriter.Write(table.Folder, state, DateTimeOffset.UtcNow) };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The commit stands; the checkpoint only speeds up reads, and the next interval writes a fresh one.
            return result with { CheckpointError = $"no checkpoint at version {result.Version} ({ex.Message}); readers replay the log instead" };
        }
    }

    /// <summary>
    /// Runs the query once into a parquet file, then reads the file's schema. Only when a column needs
    /// converting (naive timestamps, unsigned integers) is the file rewritten from itself, which is far
    /// cheaper than describing and running the query twice (DESCRIBE over read_csv re-sniffs the CSV).
    /// </summary>
    internal (NewFile Add, List<DeltaField> Fields, string FilePath) WriteDataFile(DeltaTable table, string selectSql)
    {
        Directory.CreateDirectory(table.Folder);
        var filePath = NewDataFilePath(table);
        try
        {
            var (rows, statistics) = CopyToParquet($"SELECT * FROM ({selectSql}) AS ctb_source", filePath);
            var source = $"SELECT * FROM read_parquet({DeltaSchema.Literal(filePath)})";
            var (fields, expressions, needsConversion) = DescribeQuery(source);
            if (needsConversion)
            {
                var converted = NewDataFilePath(table);
                (rows, statistics) = CopyToParquet($"SELECT {string.Join(", ", expressions)} FROM ({source})", converted);
                File.Delete(filePath);
                filePath = converted;
            }
            var add = new NewFile(Path.GetFileName(filePath), new FileInfo(filePath).Length, rows,
                StatsJson(rows, statistics, fields), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return (add, fields, filePath);
        }
        catch
        {
            File.Delete(filePath);
            throw;
        }
    }

    private static string NewDataFilePath(DeltaTable table) =>
        Path.Combine(table.Folder, $"part-00000-{Guid.NewGuid()}-c000.snappy.parquet");

    /// <summary>A data file written but not yet committed; <see cref="PartitionValues"/> only for a rewrite of a partitioned table.</summary>
    internal sealed record NewFile(string Path, long Size, long Rows, string StatsJson, long ModificationTime)
    {
        public IReadOnlyDictionary<string, string?>? PartitionValues { get; init; }
    }

    private static TableState? ReadLatest(DeltaTable table)
    {
        var log = DeltaLogFolder.List(table.Folder);
        if (log.Latest is not { } latest) return null;
        var state = LogReplay.Replay(log, latest);
        ProtocolGate.CheckRead(state.Protocol, state.Metadata, table.Folder, latest);
        ProtocolGate.CheckWrite(state.Protocol, state.Metadata, table.Folder);
        return state;
    }

    /// <summary>Why the winners' commits conflict with ours, or null when we can retry on top of them.</summary>
    private string? FindConflict(DeltaTable table, TableState? read, TableState latest, WriteMode mode, IReadOnlyList<DeltaField> fields)
    {
        if (mode == WriteMode.Overwrite && !RetryOverwriteOnConflict) return "an overwrite conflicts with any commit made after the version it read";
        var log = DeltaLogFolder.List(table.Folder);
        for (long v = (read?.Version ?? -1) + 1; v <= latest.Version; v++)
        {
            var winner = log.ReadCommit(v);
            if (winner.Protocol != null && read != null) return $"version {v} changed the protocol";
            // Two writers creating the same table with the same schema do not conflict; anything else does.
            if (winner.Metadata != null && !SameSchema(DeltaSchema.Parse(winner.Metadata.SchemaString), fields))
                return $"version {v} changed the table's metadata (schema or properties)";
        }
        return null;
    }

    private static bool SameSchema(IReadOnlyList<DeltaField> a, IReadOnlyList<DeltaField> b) =>
        a.Count == b.Count && a.All(f => b.Any(g => g.Name.Equals(f.Name, StringComparison.OrdinalIgnoreCase) && g.DeltaType == f.DeltaType));

    /// <summary>The metaData action this write must carry (null when the table's stays as it is).</summary>
    private static MetadataAction? PlanMetadata(DeltaTable table, TableState? read, IReadOnlyList<DeltaField> fields, WriteMode mode)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (read is null)
            return new MetadataAction(Guid.NewGuid().ToString(), DeltaSchema.ToSchemaString(fields), [], new Dictionary<string, string>(), now);

        var current = DeltaSchema.Parse(read.Metadata.SchemaString);
        var partitioned = read.Metadata.PartitionColumns.Count > 0;
        if (mode == WriteMode.Overwrite)
        {
            if (read.Metadata.Configuration.GetValueOrDefault("delta.appendOnly") == "true")
                throw new DeltaWriteException($"Table {table.Folder} is append-only (delta.appendOnly=true); an overwrite would remove data. Append instead, or write a new table.");
            // Overwrite with a new schema keeps the table id (Delta's overwriteSchema).
            return SameSchema(current, fields) && !partitioned ? null
                : read.Metadata with { SchemaString = DeltaSchema.ToSchemaString(fields), PartitionColumns = [] };
        }

        if (partitioned)
            throw new DeltaWriteException($"Table {table.Folder} is partitioned by [{string.Join(", ", read.Metadata.PartitionColumns)}]; " +
                "CtBuild appends only to unpartitioned tables. Overwrite it (which drops the partitioning) or write a new table.");
        var merged = current.ToList();
        foreach (var f in current)
        {
            var mine = fields.FirstOrDefault(g => g.Name.Equals(f.Name, StringComparison.OrdinalIgnoreCase));
            if (mine is null)
                throw new DeltaWriteException($"Table {table.Folder} has column '{f.Name}' ({f.DeltaType}), which the appended query does not return. " +
                    "Select it (NULL::type if unknown) or overwrite the table.");
            if (mine.DeltaType != f.DeltaType)
                throw new DeltaWriteException($"Table {table.Folder} column '{f.Name}' is {f.DeltaType} but the appended query gives {mine.DeltaType}. " +
                    $"CAST it in the query, or overwrite the table to change its schema.");
        }
        // New columns are added to the schema (Delta's mergeSchema); older files read them as null.
        merged.AddRange(fields.Where(g => !current.Any(f => f.Name.Equals(g.Name, StringComparison.OrdinalIgnoreCase))));
        return merged.Count == current.Count ? null : read.Metadata with { SchemaString = DeltaSchema.ToSchemaString(merged) };
    }

    private (List<DeltaField> Fields, List<string> Expressions, bool NeedsConversion) DescribeQuery(string selectSql)
    {
        bool needsConversion = false;
        var rows = DuckDbQuery.Rows(connection, $"DESCRIBE ({selectSql})");
        var fields = new List<DeltaField>();
        var expressions = new List<string>();
        foreach (var row in rows)
        {
            var name = (string)row[0]!;
            var (deltaType, expression) = DeltaSchema.FromDuckDb((string)row[1]!, DeltaSchema.Quote(name));
            fields.Add(new DeltaField(name, deltaType, true));
            expressions.Add(expression + " AS " + DeltaSchema.Quote(name));
            needsConversion |= expression != DeltaSchema.Quote(name);
        }
        var duplicate = fields.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null)
            throw new DeltaWriteException($"The query returns column '{duplicate.Key}' more than once (Delta names are case-insensitive). Alias the columns apart.");
        return (fields, expressions, needsConversion);
    }

    private (long Rows, IDictionary? Statistics) CopyToParquet(string query, string filePath)
    {
        var rows = DuckDbQuery.Rows(connection,
            $"COPY ({query}) TO {DeltaSchema.Literal(filePath)} (FORMAT parquet, COMPRESSION snappy, RETURN_STATS)");
        if (rows.Count != 1)
            throw new InvalidOperationException($"DuckDB wrote {rows.Count} files for {filePath}; expected exactly one.");
        return (Convert.ToInt64(rows[0][1], CultureInfo.InvariantCulture), rows[0][4] as IDictionary);
    }

    /// <summary>Delta <c>stats</c> from DuckDB's per-column statistics (strings) converted to JSON types.</summary>
    private static string StatsJson(long count, IDictionary? columnStatistics, IReadOnlyList<DeltaField> fields)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("numRecords", count);
            // DuckDB keys the statistics by quoted column path, e.g. "id" with the quotes.
            var byColumn = new Dictionary<string, IDictionary>(StringComparer.Ordinal);
            if (columnStatistics != null)
                foreach (DictionaryEntry e in columnStatistics)
                    if (e.Value is IDictionary d) byColumn[Unquote((string)e.Key)] = d;
            var stats = fields.ToDictionary(f => f.Name, f => byColumn.GetValueOrDefault(f.Name));
            foreach (var (section, key) in new[] { ("minValues", "min"), ("maxValues", "max") })
            {
                w.WriteStartObject(section);
                foreach (var f in fields)
                    if (stats[f.Name]?[key] is string value) StatValue.Write(w, f, value, isMax: key == "max");
                w.WriteEndObject();
            }
            w.WriteStartObject("nullCount");
            foreach (var f in fields)
                if (stats[f.Name]?["null_count"] is string n && long.TryParse(n, CultureInfo.InvariantCulture, out var nulls))
                    w.WriteNumber(f.Name, nulls);
                else if (count == 0)
                    w.WriteNumber(f.Name, 0);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Unquote(string key) =>
        key.Length >= 2 && key[0] == '"' && key[^1] == '"' ? key[1..^1].Replace("\"\"", "\"") : key;

    /// <summary>
    /// Order-independent digest of the written rows plus the schema: count, XOR and sum of row hashes
    /// (the sum keeps duplicate rows from cancelling out as they do under XOR).
    /// </summary>
    private string ContentDigest(string filePath, IReadOnlyList<DeltaField> fields)
    {
        var row = DuckDbQuery.Rows(connection,
            $"SELECT count(*), bit_xor(hash(t)), sum(hash(t)::HUGEINT) FROM read_parquet({DeltaSchema.Literal(filePath)}) t")[0];
        var text = $"{row[0]}|{row[1]}|{row[2]}|{DeltaSchema.ToSchemaString(fields)}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private static string? LatestDigest(DeltaTable table, long version)
    {
        var log = DeltaLogFolder.List(table.Folder);
        if (!log.Commits.ContainsKey(version)) return null;
        var info = log.ReadCommit(version).CommitInfo;
        return info is { } e ? DeltaJson.String(e, DeltaCommitInfo.ContentDigestKey) : null;
    }

    /// <summary>The commit's lines; <paramref name="mode"/> is null for a rewrite, which is neither append nor overwrite.</summary>
    internal static string CommitText(TableState? read, MetadataAction? metadata, WriteMode? mode, IReadOnlyList<AddAction> removes,
        IReadOnlyList<NewFile> files, bool dataChange, string operation, IReadOnlyDictionary<string, string>? operationParameters,
        Lineage? lineage, string? digest, IReadOnlyDictionary<string, string>? extraCommitInfo)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var lines = new List<string>
        {
            Line(w =>
            {
                w.WriteStartObject("commitInfo");
                w.WriteNumber("timestamp", now);
                w.WriteString("operation", operation);
                w.WriteStartObject("operationParameters");
                if (mode != null) w.WriteString("mode", mode.ToString());
                foreach (var (k, v) in operationParameters ?? new Dictionary<string, string>())
                    if (k != "mode" || mode == null) w.WriteString(k, v);
                w.WriteEndObject();
                if (read != null) w.WriteNumber("readVersion", read.Version);
                w.WriteBoolean("isBlindAppend", mode == WriteMode.Append);
                w.WriteStartObject("operationMetrics");
                w.WriteString("numFiles", files.Count.ToString(CultureInfo.InvariantCulture));
                w.WriteString("numOutputRows", files.Sum(f => f.Rows).ToString(CultureInfo.InvariantCulture));
                w.WriteString("numOutputBytes", files.Sum(f => f.Size).ToString(CultureInfo.InvariantCulture));
                if (mode != WriteMode.Append) w.WriteString("numRemovedFiles", removes.Count.ToString(CultureInfo.InvariantCulture));
                if (mode is null) w.WriteString("numRemovedBytes", removes.Sum(r => r.Size).ToString(CultureInfo.InvariantCulture));
                w.WriteEndObject();
                w.WriteString("engineInfo", EngineInfo);
                w.WriteString("txnId", Guid.NewGuid().ToString());
                if (lineage != null) DeltaCommitInfo.WriteLineage(w, lineage);
                if (digest != null) w.WriteString(DeltaCommitInfo.ContentDigestKey, digest);
                foreach (var (k, v) in extraCommitInfo ?? new Dictionary<string, string>())
                {
                    if (ReservedCommitInfoKeys.Contains(k))
                        throw new ArgumentException($"extraCommitInfo key '{k}' is written by CtBuild itself; choose another name.", nameof(extraCommitInfo));
                    w.WriteString(k, v);
                }
                w.WriteEndObject();
            }),
        };
        if (read is null)
            lines.Add(Line(w =>
            {
                w.WriteStartObject("protocol");
                w.WriteNumber("minReaderVersion", 1);
                w.WriteNumber("minWriterVersion", 2);
                w.WriteEndObject();
            }));
        if (metadata != null) lines.Add(Line(w => WriteMetadata(w, metadata)));
        foreach (var r in removes)
            lines.Add(Line(w =>
            {
                w.WriteStartObject("remove");
                w.WriteString("path", r.Path);
                w.WriteNumber("deletionTimestamp", now);
                w.WriteBoolean("dataChange", dataChange);
                w.WriteBoolean("extendedFileMetadata", true);
                WritePartitionValues(w, r.PartitionValues);
                w.WriteNumber("size", r.Size);
                if (r.Stats != null) w.WriteString("stats", r.Stats);
                w.WriteEndObject();
            }));
        foreach (var add in files)
            lines.Add(Line(w =>
            {
                w.WriteStartObject("add");
                w.WriteString("path", add.Path);
                WritePartitionValues(w, add.PartitionValues ?? new Dictionary<string, string?>());
                w.WriteNumber("size", add.Size);
                w.WriteNumber("modificationTime", add.ModificationTime);
                w.WriteBoolean("dataChange", dataChange);
                w.WriteString("stats", add.StatsJson);
                w.WriteEndObject();
            }));
        return string.Join("\n", lines) + "\n";
    }

    private static readonly HashSet<string> ReservedCommitInfoKeys =
    [
        "timestamp", "operation", "operationParameters", "readVersion", "isBlindAppend", "operationMetrics",
        "engineInfo", "txnId", DeltaCommitInfo.LineageKey, DeltaCommitInfo.ContentDigestKey,
    ];

    internal static void WriteMetadata(Utf8JsonWriter w, MetadataAction m)
    {
        w.WriteStartObject("metaData");
        w.WriteString("id", m.Id);
        w.WriteStartObject("format");
        w.WriteString("provider", "parquet");
        w.WriteStartObject("options");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteString("schemaString", m.SchemaString);
        w.WriteStartArray("partitionColumns");
        foreach (var p in m.PartitionColumns) w.WriteStringValue(p);
        w.WriteEndArray();
        w.WriteStartObject("configuration");
        foreach (var (k, v) in m.Configuration) w.WriteString(k, v);
        w.WriteEndObject();
        if (m.CreatedTime is { } created) w.WriteNumber("createdTime", created);
        w.WriteEndObject();
    }

    internal static void WritePartitionValues(Utf8JsonWriter w, IReadOnlyDictionary<string, string?> values)
    {
        w.WriteStartObject("partitionValues");
        foreach (var (k, v) in values)
            if (v is null) w.WriteNull(k); else w.WriteString(k, v);
        w.WriteEndObject();
    }

    private static string Line(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
