using System.Text.Json;

namespace CtBuild.Lake;

/// <summary>
/// A Delta Lake table in a folder: parquet data files plus the <c>_delta_log</c> of commits.
/// Reads follow the Delta protocol for reader version 1; see <see cref="DeltaWriter"/> to write.
/// </summary>
public sealed class DeltaTable
{
    private DeltaTable(string folder) => Folder = folder;

    /// <summary>The table in <paramref name="folder"/>; does no IO.</summary>
    public static DeltaTable At(string folder) => new(Path.GetFullPath(folder));

    public string Folder { get; }

    /// <summary>True when the folder has a <c>_delta_log</c> with a first version (a commit 0 or a checkpoint).</summary>
    public bool Exists => DeltaLogFolder.List(Folder).Latest is not null;

    /// <summary>The newest version, or null when the table does not exist yet.</summary>
    public long? LatestVersion() => DeltaLogFolder.List(Folder).Latest;

    /// <summary>The table at <paramref name="version"/>, or at the latest version when null.</summary>
    /// <exception cref="DeltaVersionNotFoundException">The version (or any version) does not exist.</exception>
    public DeltaSnapshot Snapshot(long? version = null)
    {
        var log = DeltaLogFolder.List(Folder);
        var target = version ?? log.Latest ?? throw new DeltaVersionNotFoundException(
            $"No Delta table at {Folder}: {Path.Combine(Folder, "_delta_log")} has no commits. Write version 0 first.");
        return Build(log, target);
    }

    /// <summary>The last version committed at or before <paramref name="time"/> (commit file modification times).</summary>
    public DeltaSnapshot SnapshotAsOf(DateTimeOffset time)
    {
        var log = DeltaLogFolder.List(Folder);
        var times = log.CommitTimes();
        if (times.Count == 0)
            throw new DeltaVersionNotFoundException($"No Delta table at {Folder}: nothing to time-travel in.");
        var (firstVersion, firstTime) = times.First();
        var (lastVersion, lastTime) = times.Last();
        if (time < firstTime || time > lastTime)
            throw new DeltaVersionNotFoundException(
                $"Table {Folder} has no version at {time:O}: commits span {firstTime:O} (version {firstVersion}) " +
                $"to {lastTime:O} (version {lastVersion}). Ask for a time in that range, or for a version.");
        var version = times.Last(kv => kv.Value <= time).Key;
        return Build(log, version);
    }

    /// <summary>One entry per commit file, newest first.</summary>
    public IReadOnlyList<DeltaCommitInfo> History()
    {
        var log = DeltaLogFolder.List(Folder);
        var times = log.CommitTimes();
        return log.Commits.Keys.Reverse().Select(v => DeltaCommitInfo.From(v, times[v], log.ReadCommit(v))).ToList();
    }

    /// <summary>
    /// Deletes data files no version references (e.g. written by a crashed or conflicting writer) and
    /// stale temporary log files, when older than <paramref name="minAge"/>; returns how many it deleted.
    /// The age guard protects files a concurrent writer has written but not yet committed.
    /// </summary>
    public int CleanUntracked(TimeSpan minAge)
    {
        if (!Directory.Exists(Folder)) return 0;
        var log = DeltaLogFolder.List(Folder);
        var cutoff = DateTime.UtcNow - minAge;
        int deleted = 0;
        // Only old files not live now can be leftovers; most writes find none and skip reading the whole log.
        var live = log.Latest is { } latest
            ? LogReplay.Replay(log, latest).LiveFiles.Select(a => LogReplay.ResolvePath(Folder, LogReplay.DecodePath(a.Path))).ToHashSet(StringComparer.Ordinal)
            : [];
        var candidates = DataFileCandidates(Folder).Where(f => !live.Contains(f) && File.GetLastWriteTimeUtc(f) <= cutoff).ToList();
        if (candidates.Count > 0)
        {
            var referenced = LogReplay.AllReferencedPaths(log)
                .Select(p => LogReplay.ResolvePath(Folder, p)).ToHashSet(StringComparer.Ordinal);
            foreach (var file in candidates.Where(f => !referenced.Contains(f)))
            {
                File.Delete(file);
                deleted++;
            }
        }
        if (Directory.Exists(log.LogFolder))
            foreach (var pattern in new[] { CommitFile.TempPattern, CheckpointWriter.TempPattern })
                foreach (var temp in Directory.EnumerateFiles(log.LogFolder, pattern))
                    if (File.GetLastWriteTimeUtc(temp) <= cutoff) { File.Delete(temp); deleted++; }
        return deleted;
    }

    /// <summary>Parquet files under the table root, skipping folders starting with '_' or '.' (log, metadata).</summary>
    internal static IEnumerable<string> DataFileCandidates(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*.parquet"))
            yield return Path.GetFullPath(file);
        foreach (var dir in Directory.EnumerateDirectories(folder))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith('_') || name.StartsWith('.')) continue;
            foreach (var file in DataFileCandidates(dir)) yield return file;
        }
    }

    private DeltaSnapshot Build(DeltaLogFolder log, long version)
    {
        var state = LogReplay.Replay(log, version);
        ProtocolGate.CheckRead(state.Protocol, state.Metadata, Folder, version);

        List<DeltaField> schema;
        try { schema = DeltaSchema.Parse(state.Metadata.SchemaString).ToList(); }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new DeltaLogException($"Table {Folder} at version {version}: schemaString is not a valid Delta schema ({ex.Message}).", ex);
        }

        var paths = state.LiveFiles.Select(a => LogReplay.ResolvePath(Folder, LogReplay.DecodePath(a.Path))).ToList();
        var unknown = paths.Where((_, i) => state.LiveFiles[i].NumRecords is null).ToList();
        var footerCounts = unknown.Count > 0 ? LogReplay.FooterRowCounts(unknown) : [];
        var files = state.LiveFiles.Select((a, i) => new DeltaFile(paths[i], a.Size,
                a.NumRecords ?? (footerCounts.TryGetValue(paths[i], out var n) ? n : null),
                a.PartitionValues, a.ModificationTime, a.Path))
            .OrderBy(f => f.Path, StringComparer.Ordinal).ToList();

        var times = log.CommitTimes(from: state.CheckpointVersion ?? 0, to: version);
        var timestamp = times.TryGetValue(version, out var t) ? t
            : new DateTimeOffset(File.GetLastWriteTimeUtc(log.Checkpoints[version].Paths[0]));
        var commitInfo = log.Commits.ContainsKey(version) ? DeltaCommitInfo.From(version, timestamp, log.ReadCommit(version)) : null;
        return new DeltaSnapshot(Folder, version, timestamp, schema, state.Metadata.PartitionColumns, files,
            state.Metadata.Id, commitInfo, state.Metadata.Configuration);
    }
}
