namespace CtBuild.Lake;

/// <summary>
/// One table of a lake, as <c>ctb lake tables</c> shows it. <see cref="LatestVersion"/> and
/// <see cref="LastCommitTime"/> are null while the table has no committed version (its first commit was
/// interrupted): it is empty. <see cref="Error"/> is set (and the figures are zero) when the table cannot be
/// read, e.g. a protocol CtBuild refuses.
/// </summary>
public sealed record LakeTableSummary(string Name, string Folder, long? LatestVersion, long Rows, int Files, long Bytes,
    DateTimeOffset? LastCommitTime, string? Error);

/// <summary>
/// The tables under a lake root: every folder holding a <c>_delta_log</c>, named by its relative path.
/// A lake root that does not exist yet (a fresh workspace) holds no tables.
/// </summary>
public static class LakeCatalog
{
    public static IReadOnlyList<LakeTableSummary> List(string lakeRoot)
    {
        var root = Path.GetFullPath(lakeRoot);
        if (!Directory.Exists(root)) return [];
        return TableFolders(root)
            .Select(folder => Summarize(Path.GetRelativePath(root, folder).Replace('\\', '/'), folder))
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
    }

    private static IEnumerable<string> TableFolders(string folder)
    {
        foreach (var dir in Directory.EnumerateDirectories(folder))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith('.')) continue;
            if (Directory.Exists(Path.Combine(dir, "_delta_log"))) yield return dir; // a table: do not look inside
            else if (!name.StartsWith('_'))
                foreach (var nested in TableFolders(dir)) yield return nested;
        }
    }

    private static LakeTableSummary Summarize(string name, string folder)
    {
        var table = DeltaTable.At(folder);
        if (table.LatestVersion() is null) return new LakeTableSummary(name, folder, null, 0, 0, 0, null, null);
        try
        {
            var s = table.Snapshot();
            return new LakeTableSummary(name, folder, s.Version, s.RowCount, s.Files.Count, s.SizeInBytes, s.Timestamp, null);
        }
        catch (CtBuildException ex)
        {
            return new LakeTableSummary(name, folder, table.LatestVersion(), 0, 0, 0, null, ex.Message);
        }
    }
}
