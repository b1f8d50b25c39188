using System.Text.Json;

namespace CtBuild.Tests.CrashSafety;

/// <summary>One table as its <c>_delta_log</c> says, replayed here without the engine's reader.</summary>
public sealed record AuditedTable(string Name, long? Latest, IReadOnlyList<string> LiveFiles, string? LatestDigest,
    IReadOnlyList<string> Leftovers, IReadOnlyList<string> Problems);

/// <summary>
/// An independent look at a lake table: replays every version of the log with plain JSON parsing and
/// checks that each version's live files exist with the recorded sizes, that versions have no gap, and
/// lists the files no version references (what a crashed writer leaves behind).
/// </summary>
public static class LakeAudit
{
    public static AuditedTable Table(string lakeDir, string name)
    {
        var folder = Path.Combine(lakeDir, name);
        var logDir = Path.Combine(folder, "_delta_log");
        var problems = new List<string>();
        var live = new Dictionary<string, long>(StringComparer.Ordinal);
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        string? digest = null;
        long? latest = null;
        var commits = Directory.Exists(logDir)
            ? Directory.EnumerateFiles(logDir, "*.json").Select(f => Path.GetFileNameWithoutExtension(f))
                .Where(n => n.Length == 20 && n.All(char.IsDigit)).Select(long.Parse).Order().ToList()
            : [];
        for (var i = 0; i < commits.Count; i++)
        {
            var version = commits[i];
            if (version != i) { problems.Add($"{name}: version {i} is missing from the log (found {version})"); break; }
            digest = null;
            foreach (var line in File.ReadAllLines(Path.Combine(logDir, $"{version:D20}.json")).Where(l => l.Length > 0))
            {
                using var doc = JsonDocument.Parse(line); // a torn commit would throw here
                var action = doc.RootElement;
                if (action.TryGetProperty("add", out var add))
                {
                    var path = Uri.UnescapeDataString(add.GetProperty("path").GetString()!);
                    live[path] = add.GetProperty("size").GetInt64();
                    referenced.Add(path);
                }
                else if (action.TryGetProperty("remove", out var remove))
                {
                    var path = Uri.UnescapeDataString(remove.GetProperty("path").GetString()!);
                    live.Remove(path);
                    referenced.Add(path);
                }
                else if (action.TryGetProperty("commitInfo", out var info) && info.TryGetProperty("ctbContentDigest", out var d))
                    digest = d.GetString();
            }
            foreach (var (path, size) in live)
            {
                var full = Path.Combine(folder, path);
                if (!File.Exists(full)) problems.Add($"{name} v{version}: data file {path} is missing");
                else if (new FileInfo(full).Length != size) problems.Add($"{name} v{version}: data file {path} has {new FileInfo(full).Length} bytes, the log says {size}");
            }
            latest = version;
        }
        var leftovers = new List<string>();
        if (Directory.Exists(folder))
        {
            leftovers.AddRange(Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories)
                .Where(f => !f.Contains("_delta_log"))
                .Where(f => !referenced.Contains(Path.GetRelativePath(folder, f))));
            if (Directory.Exists(logDir)) leftovers.AddRange(Directory.EnumerateFiles(logDir, ".ctb-commit-*.tmp"));
        }
        return new AuditedTable(name, latest, live.Keys.Select(p => Path.Combine(folder, p)).Order().ToList(), digest, leftovers, problems);
    }

    /// <summary>Sets every leftover file's time back two hours: as if the crash happened long ago, so cleanup may take it.</summary>
    public static void AgeLeftovers(string lakeDir, IEnumerable<string> tables)
    {
        foreach (var t in tables)
            foreach (var f in Table(lakeDir, t).Leftovers)
                File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddHours(-2));
    }
}
