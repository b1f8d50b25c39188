using DuckDB.NET.Data;

namespace CtBuild.Lake;

/// <summary>What <see cref="TableCompaction.Optimize"/> did. <see cref="Version"/> is null when there was nothing to compact.</summary>
public sealed record CompactionResult(string Table, long ReadVersion, long? Version, int FilesBefore, int FilesAfter,
    int FilesRemoved, int FilesAdded, long BytesRemoved, long BytesAdded, long TargetFileSize)
{
    public bool Committed => Version is not null;
}

/// <summary>
/// Delta's OPTIMIZE (bin-packing): live files smaller than the target size are grouped, in commit order,
/// into bins of up to the target size; each bin of two or more files is rewritten as one file. All the
/// removes and adds go in one <c>dataChange=false</c> commit, so a reader sees the old files or the new
/// ones, never a mix, and time travel to earlier versions keeps its files (until VACUUM).
/// </summary>
public static class TableCompaction
{
    /// <summary>delta-rs's default target; Spark's OPTIMIZE aims at 1 GB, too large for one machine's tables.</summary>
    public const long DefaultTargetFileSize = 128L * 1024 * 1024;

    public static CompactionResult Optimize(DuckDBConnection connection, DeltaTable table, long targetFileSize = DefaultTargetFileSize,
        int checkpointInterval = DeltaWriter.DefaultCheckpointInterval) =>
        Optimize(connection, table, targetFileSize, checkpointInterval, beforeCommitAttempt: null);

    /// <param name="beforeCommitAttempt">Lets tests commit a competing change between the plan and the commit.</param>
    internal static CompactionResult Optimize(DuckDBConnection connection, DeltaTable table, long targetFileSize,
        int checkpointInterval, Action<long>? beforeCommitAttempt)
    {
        if (targetFileSize < 1) throw new ArgumentOutOfRangeException(nameof(targetFileSize), "The target file size must be positive.");
        var log = DeltaLogFolder.List(table.Folder);
        if (log.Latest is not { } latest)
            throw new DeltaVersionNotFoundException($"No Delta table at {table.Folder}: nothing to optimize.");
        var read = LogReplay.Replay(log, latest);
        ProtocolGate.CheckRead(read.Protocol, read.Metadata, table.Folder, latest);
        ProtocolGate.CheckWrite(read.Protocol, read.Metadata, table.Folder);
        var snapshot = table.Snapshot(latest);

        var bins = Plan(read, targetFileSize);
        var nothing = new CompactionResult(table.Folder, latest, null, read.LiveFiles.Count, read.LiveFiles.Count, 0, 0, 0, 0, targetFileSize);
        if (bins.Count == 0) return nothing;

        var writer = new DeltaWriter(connection) { CheckpointInterval = checkpointInterval, BeforeCommitAttempt = beforeCommitAttempt };
        var added = new List<DeltaWriter.NewFile>();
        try
        {
            var partitions = snapshot.PartitionColumns;
            foreach (var bin in bins)
            {
                var paths = bin.Select(a => LogReplay.DecodePath(a.Path)).ToHashSet(StringComparer.Ordinal);
                var part = snapshot with { Files = snapshot.Files.Where(f => paths.Contains(LogReplay.DecodePath(f.LogPath))).ToList() };
                // Partition values stay in the log, not in the file, as in every Delta data file.
                var select = partitions.Count == 0 ? $"SELECT * FROM {part.ToDuckDbSql()}"
                    : $"SELECT * EXCLUDE ({string.Join(", ", partitions.Select(DeltaSchema.Quote))}) FROM {part.ToDuckDbSql()}";
                var (file, _, _) = writer.WriteDataFile(table, select);
                added.Add(file with { PartitionValues = bin[0].PartitionValues });
                var expected = bin.Sum(a => a.NumRecords ?? 0);
                if (bin.All(a => a.NumRecords is not null) && file.Rows != expected)
                    throw new DeltaWriteException($"Table {table.Folder}: a rewritten file holds {file.Rows} rows where its {bin.Count} source files hold {expected}. Nothing was committed.");
            }
            var removed = bins.SelectMany(b => b).ToList();
            var parameters = new Dictionary<string, string>
            {
                ["targetFileSize"] = targetFileSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["predicate"] = "[]",
            };
            var result = writer.CommitRewrite(table, read, removed, added, "OPTIMIZE", parameters);
            return new CompactionResult(table.Folder, latest, result.Version, read.LiveFiles.Count,
                read.LiveFiles.Count - removed.Count + added.Count, removed.Count, added.Count,
                removed.Sum(a => a.Size), added.Sum(a => a.Size), targetFileSize);
        }
        catch
        {
            foreach (var f in added) File.Delete(Path.Combine(table.Folder, f.Path)); // never committed: nothing references them
            throw;
        }
    }

    /// <summary>Bins of files to merge: per partition, small files in commit order, each bin at most the target (or one file).</summary>
    internal static List<List<AddAction>> Plan(TableState state, long targetFileSize)
    {
        var bins = new List<List<AddAction>>();
        var small = state.LiveFiles.Where(a => a.Size < targetFileSize)
            .GroupBy(a => string.Join("\u0001", a.PartitionValues.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + (kv.Value ?? "\u0000"))));
        foreach (var partition in small)
        {
            var bin = new List<AddAction>();
            long size = 0;
            foreach (var file in partition.OrderBy(a => a.ModificationTime).ThenBy(a => a.Path, StringComparer.Ordinal))
            {
                if (bin.Count > 0 && size + file.Size > targetFileSize)
                {
                    bins.Add(bin);
                    bin = [];
                    size = 0;
                }
                bin.Add(file);
                size += file.Size;
            }
            bins.Add(bin);
        }
        return bins.Where(b => b.Count > 1).ToList();
    }
}
