using System.Globalization;
using System.Text.RegularExpressions;

namespace CtBuild.Lake;

/// <summary>A checkpoint found in <c>_delta_log</c>: one classic file or every part of a multi-part set.</summary>
internal sealed record CheckpointFiles(long Version, IReadOnlyList<string> Paths);

/// <summary>
/// What <c>_delta_log</c> holds, listed once: commit files by version and complete checkpoints.
/// Listing is the truth; <c>_last_checkpoint</c> is only a hint and is not needed when we list anyway.
/// </summary>
internal sealed partial class DeltaLogFolder
{
    [GeneratedRegex(@"^(\d{20})\.json$")] private static partial Regex CommitName();
    [GeneratedRegex(@"^(\d{20})\.checkpoint\.parquet$")] private static partial Regex ClassicCheckpointName();
    [GeneratedRegex(@"^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$")] private static partial Regex MultiPartCheckpointName();

    public string TableFolder { get; }
    public string LogFolder { get; }
    public SortedDictionary<long, string> Commits { get; } = new();
    public SortedDictionary<long, CheckpointFiles> Checkpoints { get; } = new();

    private DeltaLogFolder(string tableFolder)
    {
        TableFolder = tableFolder;
        LogFolder = Path.Combine(tableFolder, "_delta_log");
    }

    public static string CommitPath(string tableFolder, long version) =>
        Path.Combine(tableFolder, "_delta_log", version.ToString("D20", CultureInfo.InvariantCulture) + ".json");

    public static DeltaLogFolder List(string tableFolder)
    {
        var log = new DeltaLogFolder(tableFolder);
        if (!Directory.Exists(log.LogFolder)) return log;
        var parts = new Dictionary<(long Version, int Count), List<string>>();
        foreach (var file in Directory.EnumerateFiles(log.LogFolder))
        {
            var name = Path.GetFileName(file);
            Match m;
            if ((m = CommitName().Match(name)).Success)
                log.Commits[long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)] = file;
            else if ((m = ClassicCheckpointName().Match(name)).Success)
            {
                var v = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                log.Checkpoints[v] = new CheckpointFiles(v, [file]);
            }
            else if ((m = MultiPartCheckpointName().Match(name)).Success)
            {
                var key = (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
                if (!parts.TryGetValue(key, out var list)) parts[key] = list = [];
                list.Add(file);
            }
        }
        // A multi-part checkpoint is usable only when all its parts are present.
        foreach (var ((version, count), files) in parts)
            if (files.Count == count && !log.Checkpoints.ContainsKey(version))
                log.Checkpoints[version] = new CheckpointFiles(version, files.Order(StringComparer.Ordinal).ToList());
        return log;
    }

    /// <summary>Versions that exist as a commit or as a checkpoint (commits before a checkpoint may be cleaned up).</summary>
    public long? Earliest => Commits.Count == 0 && Checkpoints.Count == 0 ? null
        : Math.Min(Commits.Count > 0 ? Commits.Keys.First() : long.MaxValue, Checkpoints.Count > 0 ? Checkpoints.Keys.First() : long.MaxValue);

    public long? Latest => Commits.Count == 0 && Checkpoints.Count == 0 ? null
        : Math.Max(Commits.Count > 0 ? Commits.Keys.Last() : -1, Checkpoints.Count > 0 ? Checkpoints.Keys.Last() : -1);

    public string AvailableRange => Latest is null ? "none (the table has no commits)" : $"{Earliest}..{Latest}";

    public CommitActions ReadCommit(long version)
    {
        var path = Commits[version];
        return CommitActions.Parse(File.ReadLines(path), path);
    }

    /// <summary>
    /// Commit time of each version per the protocol: the commit file's modification time, made strictly
    /// increasing (a later commit is at least 1 ms after the one before, as Delta does for skewed clocks).
    /// <paramref name="from"/> and <paramref name="to"/> bound the versions looked at, so a snapshot read
    /// from a checkpoint reads the times of the commits it replays, not of thousands before them.
    /// </summary>
    public SortedDictionary<long, DateTimeOffset> CommitTimes(long from = 0, long to = long.MaxValue)
    {
        var times = new SortedDictionary<long, DateTimeOffset>();
        DateTimeOffset? previous = null;
        foreach (var (version, path) in Commits)
        {
            if (version < from) continue;
            if (version > to) break;
            var t = new DateTimeOffset(File.GetLastWriteTimeUtc(path));
            if (previous is { } p && t <= p) t = p.AddMilliseconds(1);
            times[version] = t;
            previous = t;
        }
        return times;
    }
}
