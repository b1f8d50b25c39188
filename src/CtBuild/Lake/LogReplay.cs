using System.Text.Json;
using DuckDB.NET.Data;

namespace CtBuild.Lake;

/// <summary>
/// The table state at one version: latest protocol and metaData, live files keyed by decoded path, and
/// the tombstones (removed files not added back) that a checkpoint carries for VACUUM-aware readers.
/// </summary>
internal sealed record TableState(long Version, ProtocolAction Protocol, MetadataAction Metadata,
    IReadOnlyList<AddAction> LiveFiles, IReadOnlyList<RemoveAction> Tombstones)
{
    /// <summary>The checkpoint the replay started from; null when it replayed every commit from version 0.</summary>
    public long? CheckpointVersion { get; init; }
}

/// <summary>Log replay (PROTOCOL-NOTES §4): newest usable checkpoint at or below N, then commits up to N.</summary>
internal static class LogReplay
{
    /// <summary>
    /// The state at <paramref name="version"/>. A checkpoint that cannot be read (truncated, corrupt, left
    /// half-written by another tool) is skipped for an older one, and at worst the commits are replayed from
    /// version 0: a checkpoint is an optimisation, the commits are the record. With
    /// <paramref name="useCheckpoints"/> false every commit is replayed (tests compare both ways).
    /// </summary>
    public static TableState Replay(DeltaLogFolder log, long version, bool useCheckpoints = true)
    {
        if (log.Latest is not { } latest || version < log.Earliest || version > latest)
            throw new DeltaVersionNotFoundException(
                $"Table {log.TableFolder} has no version {version}; available versions: {log.AvailableRange}.");

        // Listing finds every complete checkpoint, so the _last_checkpoint hint (possibly empty or stale) is not needed.
        var unreadable = new List<long>();
        var candidates = useCheckpoints ? log.Checkpoints.Values.Where(c => c.Version <= version).Reverse() : [];
        foreach (var checkpoint in candidates)
        {
            // Commits missing after a newer checkpoint are missing for every older one too.
            ThrowOnGap(log, checkpoint.Version + 1, version, unreadable);
            if (TryReadCheckpoint(checkpoint) is { Protocol: not null, Metadata: not null } actions)
                return ReplayFrom(log, actions, checkpoint.Version + 1, version) with { CheckpointVersion = checkpoint.Version };
            unreadable.Add(checkpoint.Version);
        }
        ThrowOnGap(log, 0, version, unreadable);
        return ReplayFrom(log, null, 0, version);
    }

    private static void ThrowOnGap(DeltaLogFolder log, long first, long last, List<long> unreadable)
    {
        var missing = new List<long>();
        for (var v = first; v <= last && missing.Count < 20; v++)
            if (!log.Commits.ContainsKey(v)) missing.Add(v);
        if (missing.Count == 0) return;
        var found = log.Commits.Count <= 20 ? string.Join(", ", log.Commits.Keys)
            : $"{log.Commits.Count} commits from {log.Commits.Keys.First()} to {log.Commits.Keys.Last()}";
        throw new DeltaLogException(
            $"Table {log.TableFolder}: log versions are not contiguous; found [{found}] " +
            $"but version(s) {string.Join(", ", missing)} are missing and no checkpoint covers them" +
            (unreadable.Count > 0 ? $" (the checkpoint(s) at {string.Join(", ", unreadable)} could not be read)" : "") + ". " +
            "Restore the missing commit files, or read an older version that is complete.");
    }

    private static TableState ReplayFrom(DeltaLogFolder log, CommitActions? checkpoint, long first, long version)
    {
        ProtocolAction? protocol = null;
        MetadataAction? metadata = null;
        var live = new Dictionary<string, AddAction>(StringComparer.Ordinal);
        var tombstones = new Dictionary<string, RemoveAction>(StringComparer.Ordinal);
        void Apply(CommitActions actions)
        {
            protocol = actions.Protocol ?? protocol;
            metadata = actions.Metadata ?? metadata;
            // Within one commit order has no meaning and a valid commit never removes and adds the same path.
            foreach (var r in actions.Removes)
            {
                var key = DecodePath(r.Path);
                live.Remove(key);
                tombstones[key] = r;
            }
            foreach (var a in actions.Adds)
            {
                var key = DecodePath(a.Path);
                live[key] = a;
                tombstones.Remove(key);
            }
        }

        if (checkpoint != null) Apply(checkpoint);
        for (long v = first; v <= version; v++) Apply(log.ReadCommit(v));

        if (protocol is null || metadata is null)
            throw new DeltaLogException(
                $"Table {log.TableFolder} at version {version} has no {(protocol is null ? "protocol" : "metaData")} action; " +
                "the log is corrupt. Restore _delta_log from a backup.");
        return new TableState(version, protocol, metadata, live.Values.ToList(), tombstones.Values.ToList());
    }

    /// <summary>Every path any commit or checkpoint mentions (add or remove), decoded: what vacuum must keep.</summary>
    public static HashSet<string> AllReferencedPaths(DeltaLogFolder log)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        void Collect(CommitActions a)
        {
            foreach (var add in a.Adds) paths.Add(DecodePath(add.Path));
            foreach (var r in a.Removes) paths.Add(DecodePath(r.Path));
        }
        foreach (var c in log.Checkpoints.Values) if (TryReadCheckpoint(c) is { } actions) Collect(actions);
        foreach (var v in log.Commits.Keys) Collect(log.ReadCommit(v));
        return paths;
    }

    /// <summary>Percent-decodes a log path once with URI rules ('+' stays '+'), as the protocol says.</summary>
    public static string DecodePath(string path) => Uri.UnescapeDataString(path);

    /// <summary>The absolute file path of a decoded log path: relative to the table root unless absolute.</summary>
    public static string ResolvePath(string tableFolder, string decodedPath)
    {
        // Normalised like the paths vacuum lists from disk: a mismatch there would delete a file still in use.
        if (decodedPath.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            return Path.GetFullPath(new Uri(decodedPath).LocalPath);
        if (Path.IsPathRooted(decodedPath)) return Path.GetFullPath(decodedPath);
        // A plain relative name needs no normalising (GetFullPath is most of a snapshot's path work at 10,000 files).
        if (Path.DirectorySeparatorChar == '/' && !decodedPath.Contains("./", StringComparison.Ordinal) && !decodedPath.Contains("//", StringComparison.Ordinal)
            && Path.IsPathFullyQualified(tableFolder) && !tableFolder.EndsWith('/'))
            return tableFolder + "/" + decodedPath;
        return Path.GetFullPath(Path.Combine(tableFolder, decodedPath));
    }

    /// <summary>The checkpoint's actions, or null when its files cannot be read as a checkpoint.</summary>
    private static CommitActions? TryReadCheckpoint(CheckpointFiles checkpoint)
    {
        try { return ReadCheckpoint(checkpoint); }
        catch (Exception ex) when (ex is DuckDBException or DeltaLogException or IOException or InvalidCastException)
        {
            return null;
        }
    }

    private static CommitActions ReadCheckpoint(CheckpointFiles checkpoint)
    {
        using var connection = DuckDbQuery.OpenShared();
        var source = $"read_parquet({DuckDbQuery.ListLiteral(checkpoint.Paths)}, union_by_name=true)";
        var where = string.Join(", ", checkpoint.Paths);
        // Each checkpoint row has one non-null action column; as JSON it parses like a commit line. Adds are
        // nearly every row of a long table's checkpoint, so they are read as columns instead when the checkpoint
        // has the usual add columns (JSON for every row triples the time at 10,000 files).
        try { return ReadWithAddColumns(connection, source, where); }
        catch (DuckDBException)
        {
            var all = DuckDbQuery.Rows(connection, $"SELECT to_json(t) FROM {source} t");
            return CommitActions.Parse(all.Select(r => (string)r[0]!), where);
        }
    }

    private static CommitActions ReadWithAddColumns(DuckDBConnection connection, string source, string where)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT CASE WHEN a IS NULL THEN to_json(t) END, a.path, a.size, a.modificationTime, a.dataChange, a.stats, " +
            $"CASE WHEN cardinality(a.partitionValues) > 0 THEN to_json(a.partitionValues) END FROM (SELECT t.\"add\" AS a, t FROM {source} t)";
        using var reader = command.ExecuteReader();
        var adds = new List<AddAction>();
        var others = new List<string>();
        while (reader.Read())
        {
            if (!reader.IsDBNull(0)) { others.Add(reader.GetString(0)); continue; }
            var partitions = reader.IsDBNull(6) ? "{}" : reader.GetString(6);
            adds.Add(new AddAction(reader.GetString(1),
                partitions == "{}" ? EmptyPartitionValues : DeltaJson.NullableStringMap(JsonDocument.Parse("{\"m\":" + partitions + "}").RootElement, "m"),
                reader.IsDBNull(2) ? 0 : reader.GetInt64(2), reader.IsDBNull(3) ? 0 : reader.GetInt64(3),
                reader.IsDBNull(4) || reader.GetBoolean(4), reader.IsDBNull(5) ? null : reader.GetString(5), false));
        }
        return CommitActions.Parse(others, where) with { Adds = adds };
    }

    private static readonly IReadOnlyDictionary<string, string?> EmptyPartitionValues = new Dictionary<string, string?>();

    /// <summary>Row counts from parquet footers for files whose add has no stats (only files present on disk).</summary>
    public static Dictionary<string, long> FooterRowCounts(IReadOnlyCollection<string> absolutePaths)
    {
        var present = absolutePaths.Where(File.Exists).ToList();
        if (present.Count == 0) return [];
        using DuckDBConnection connection = DuckDbQuery.OpenShared();
        return DuckDbQuery.Rows(connection,
                $"SELECT file_name, num_rows FROM parquet_file_metadata({DuckDbQuery.ListLiteral(present)})")
            .ToDictionary(r => (string)r[0]!, r => Convert.ToInt64(r[1]));
    }
}
