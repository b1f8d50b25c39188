namespace CtBuild.Lake;

/// <summary>A data file vacuum deletes (or would delete): its path, size and last write time.</summary>
public sealed record VacuumFile(string Path, long Size, DateTimeOffset LastWrite);

/// <summary>
/// What <see cref="TableVacuum.Plan"/> found. Versions <see cref="OldestVersionKept"/> to
/// <see cref="LatestVersion"/> keep every file they reference; <see cref="Files"/> are referenced by none of
/// them and older than the cutoff. <see cref="Deleted"/> counts what <see cref="TableVacuum.Apply"/> removed.
/// </summary>
public sealed record VacuumResult(string Table, TimeSpan Retain, DateTimeOffset Cutoff, long OldestVersionKept, long LatestVersion,
    IReadOnlyList<VacuumFile> Files, bool Applied, int Deleted)
{
    public long Bytes => Files.Sum(f => f.Size);
}

/// <summary>
/// Delta's VACUUM: deletes the data files that no version inside the retention window needs. The window
/// holds every version committed after <c>now - retain</c> and the version that was current at that
/// instant (time travel to any time in the window reads it), and always the latest version. A file is
/// deleted only when none of those versions references it and it was last written before the cutoff, so
/// files a concurrent writer has written but not committed yet are safe. The log is never changed:
/// a vacuum killed at any point leaves every version of the window whole, and a rerun finishes the job.
/// </summary>
public static class TableVacuum
{
    /// <summary>Delta's default (<c>delta.deletedFileRetentionDuration</c>).</summary>
    public static readonly TimeSpan DefaultRetain = TimeSpan.FromDays(7);

    /// <summary>Below this a writer in another process could still be about to commit a file vacuum would take.</summary>
    public static readonly TimeSpan MinimumRetain = TimeSpan.FromHours(1);

    public static VacuumResult Plan(DeltaTable table, TimeSpan retain, DateTimeOffset now)
    {
        if (retain < MinimumRetain)
            throw new ConfigException($"A retention of {retain} is too short: a writer in another process may have written a data file it has not committed yet. " +
                $"Use at least {MinimumRetain.TotalHours:0}h (the default is {DefaultRetain.TotalDays:0}d).");
        var log = DeltaLogFolder.List(table.Folder);
        if (log.Latest is not { } latest)
            throw new DeltaVersionNotFoundException($"No Delta table at {table.Folder}: nothing to vacuum.");
        var cutoff = now - retain;
        var times = log.CommitTimes();
        // The version current at the cutoff is the oldest one time travel inside the window can reach.
        var oldest = times.Where(kv => kv.Value <= cutoff).Select(kv => kv.Key).DefaultIfEmpty(log.Earliest!.Value).Max();

        var keep = new HashSet<string>(StringComparer.Ordinal);
        foreach (var add in LogReplay.Replay(log, oldest).LiveFiles)
            keep.Add(LogReplay.ResolvePath(table.Folder, LogReplay.DecodePath(add.Path)));
        for (var v = oldest + 1; v <= latest; v++)
            foreach (var add in log.ReadCommit(v).Adds)
                keep.Add(LogReplay.ResolvePath(table.Folder, LogReplay.DecodePath(add.Path)));

        // Data file names are unique (a GUID each), so a kept name also guards against a path written another way.
        var keepNames = keep.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var files = DeltaTable.DataFileCandidates(table.Folder)
            .Where(f => !keep.Contains(f) && !keepNames.Contains(Path.GetFileName(f)))
            .Select(f => new FileInfo(f))
            .Where(f => f.LastWriteTimeUtc <= cutoff.UtcDateTime)
            .Select(f => new VacuumFile(f.FullName, f.Length, new DateTimeOffset(f.LastWriteTimeUtc)))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
        return new VacuumResult(table.Folder, retain, cutoff, oldest, latest, files, false, 0);
    }

    /// <summary>Deletes the planned files (re-planned now, so a file a newer commit references again is kept).</summary>
    public static VacuumResult Apply(DeltaTable table, TimeSpan retain, DateTimeOffset now)
    {
        var plan = Plan(table, retain, now);
        int deleted = 0;
        foreach (var file in plan.Files)
        {
            if (!File.Exists(file.Path)) continue; // a vacuum before this one was killed after deleting it
            File.Delete(file.Path);
            deleted++;
            CtBuild.Pipeline.FaultInjection.Point($"lake.vacuum-after-delete:{Path.GetFileName(table.Folder)}", file.Path);
        }
        DeleteStaleTemporaryLogFiles(table.Folder, plan.Cutoff);
        return plan with { Applied = true, Deleted = deleted };
    }

    private static void DeleteStaleTemporaryLogFiles(string tableFolder, DateTimeOffset cutoff)
    {
        var logFolder = Path.Combine(tableFolder, "_delta_log");
        if (!Directory.Exists(logFolder)) return;
        foreach (var pattern in new[] { CommitFile.TempPattern, CheckpointWriter.TempPattern })
            foreach (var temp in Directory.EnumerateFiles(logFolder, pattern))
                if (File.GetLastWriteTimeUtc(temp) <= cutoff.UtcDateTime) File.Delete(temp);
    }
}
