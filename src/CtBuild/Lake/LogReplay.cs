using DuckDB.NET.Data;

namespace CtBuild.Lake;

/// <summary>The table state at one version: latest protocol and metaData, live files keyed by decoded path.</summary>
internal sealed record TableState(long Version, ProtocolAction Protocol, MetadataAction Metadata,
    IReadOnlyList<AddAction> LiveFiles);

/// <summary>Log replay (PROTOCOL-NOTES §4): newest usable checkpoint at or below N, then commits up to N.</summary>
internal static class LogReplay
{
    public static TableState Replay(DeltaLogFolder log, long version)
    {
        if (log.Latest is not { } latest || version < log.Earliest || version > latest)
            throw new DeltaVersionNotFoundException(
                $"Table {log.TableFolder} has no version {version}; available versions: {log.AvailableRange}.");

        // Listing finds every complete checkpoint, so the _last_checkpoint hint (possibly empty or stale) is not needed.
        var checkpoint = log.Checkpoints.Values.LastOrDefault(c => c.Version <= version);
        long first = checkpoint is null ? 0 : checkpoint.Version + 1;
        var missing = Enumerable.Range(0, checked((int)(version - first + 1))).Select(i => first + i)
            .Where(v => !log.Commits.ContainsKey(v)).ToList();
        if (missing.Count > 0)
            throw new DeltaLogException(
                $"Table {log.TableFolder}: log versions are not contiguous; found [{string.Join(", ", log.Commits.Keys)}] " +
                $"but version(s) {string.Join(", ", missing)} are missing and no checkpoint covers them. " +
                "Restore the missing commit files, or read an older version that is complete.");

        ProtocolAction? protocol = null;
        MetadataAction? metadata = null;
        var live = new Dictionary<string, AddAction>(StringComparer.Ordinal);
        void Apply(CommitActions actions)
        {
            protocol = actions.Protocol ?? protocol;
            metadata = actions.Metadata ?? metadata;
            // Within one commit order has no meaning and a valid commit never removes and adds the same path.
            foreach (var r in actions.Removes) live.Remove(DecodePath(r.Path));
            foreach (var a in actions.Adds) live[DecodePath(a.Path)] = a;
        }

        if (checkpoint != null) Apply(ReadCheckpoint(checkpoint));
        for (long v = first; v <= version; v++) Apply(log.ReadCommit(v));

        if (protocol is null || metadata is null)
            throw new DeltaLogException(
                $"Table {log.TableFolder} at version {version} has no {(protocol is null ? "protocol" : "metaData")} action; " +
                "the log is corrupt. Restore _delta_log from a backup.");
        return new TableState(version, protocol, metadata, live.Values.ToList());
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
        foreach (var c in log.Checkpoints.Values) Collect(ReadCheckpoint(c));
        foreach (var v in log.Commits.Keys) Collect(log.ReadCommit(v));
        return paths;
    }

    /// <summary>Percent-decodes a log path once with URI rules ('+' stays '+'), as the protocol says.</summary>
    public static string DecodePath(string path) => Uri.UnescapeDataString(path);

    /// <summary>The absolute file path of a decoded log path: relative to the table root unless absolute.</summary>
    public static string ResolvePath(string tableFolder, string decodedPath)
    {
        if (decodedPath.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            return new Uri(decodedPath).LocalPath;
        if (Path.IsPathRooted(decodedPath)) return decodedPath;
        return Path.GetFullPath(Path.Combine(tableFolder, decodedPath));
    }

    private static CommitActions ReadCheckpoint(CheckpointFiles checkpoint)
    {
        // Each checkpoint row has one non-null action column; as JSON it parses like a commit line.
        using var connection = DuckDbQuery.OpenInMemory();
        var rows = DuckDbQuery.Rows(connection,
            $"SELECT to_json(t) FROM read_parquet({DuckDbQuery.ListLiteral(checkpoint.Paths)}, union_by_name=true) t");
        return CommitActions.Parse(rows.Select(r => (string)r[0]!), string.Join(", ", checkpoint.Paths));
    }

    /// <summary>Row counts from parquet footers for files whose add has no stats (only files present on disk).</summary>
    public static Dictionary<string, long> FooterRowCounts(IReadOnlyCollection<string> absolutePaths)
    {
        var present = absolutePaths.Where(File.Exists).ToList();
        if (present.Count == 0) return [];
        using DuckDBConnection connection = DuckDbQuery.OpenInMemory();
        return DuckDbQuery.Rows(connection,
                $"SELECT file_name, num_rows FROM parquet_file_metadata({DuckDbQuery.ListLiteral(present)})")
            .ToDictionary(r => (string)r[0]!, r => Convert.ToInt64(r[1]));
    }
}
