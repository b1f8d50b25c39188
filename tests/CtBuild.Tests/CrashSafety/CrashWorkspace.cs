using System.Text.Json;
using CtBuild.Pipeline;
using CtBuild.Tests.Support;
using DuckDB.NET.Data;

namespace CtBuild.Tests.CrashSafety;

/// <summary>
/// A git workspace with the small config and two raw deliveries holding a few rows that break the
/// contract, driven by real <c>ctb</c> processes and checked afterwards with an independent look at
/// the files: the lake log, the rows, git, the tracking store and the stage locks.
/// </summary>
public sealed class CrashWorkspace : IDisposable
{
    public const int GoodRows = 600;
    public const int BadRows = 6;
    public static readonly string[] Tables = ["raw", "quarantine", "features", "splits"];

    readonly TempWorkspace _ws;

    /// <param name="lockWait">The config's lock.wait.</param>
    /// <param name="lakeDir">A lake folder outside the workspace (e.g. shared by two workspaces).</param>
    /// <param name="delivery">The raw files' name prefix; <paramref name="firstId"/> the first row key.</param>
    public CrashWorkspace(string lockWait = "60s", string? lakeDir = null, string delivery = "batch", int firstId = 1)
    {
        var paths = lakeDir is null ? "" : $"\"paths\": {{ \"lake\": {JsonSerializer.Serialize(lakeDir)} }},";
        var config = SmallConfig.Json().Replace("\"name\": \"small-model\",", $"\"name\": \"small-model\", \"lock\": {{ \"wait\": \"{lockWait}\" }}, {paths}");
        _ws = new TempWorkspace().WithConfig(config).WithFeaturesSql(SmallConfig.FeaturesSql);
        GitRepo.Init(Root);
        File.WriteAllText(Path.Combine(Root, ".gitignore"), ".ctb/\ndata/lake/\nreports/\n");
        _ws.WriteRaw($"{delivery}-1.csv", WithBadRows(SmallConfig.Rows(GoodRows / 2, firstId, seed: 1), firstBadId: firstId + 100_000));
        _ws.WriteRaw($"{delivery}-2.csv", WithBadRows(SmallConfig.Rows(GoodRows / 2, firstId + GoodRows / 2, seed: 2), firstBadId: firstId + 100_100));
        GitRepo.CommitAll(Root, "data");
    }

    public string Root => _ws.Root;
    public string ConfigPath => Path.Combine(Root, "ctbuild.json");
    public string LakeDir => _ws.Load().LakeDir;
    public TempWorkspace Workspace => _ws;

    /// <summary>Three rows per file that break the contract: age out of range, an unknown city, a missing label.</summary>
    static string WithBadRows(string csv, int firstBadId) => csv +
        $"{firstBadId},200,Oslo,1.5,yes\n{firstBadId + 1},30,Paris,2.5,no\n{firstBadId + 2},40,Lima,3.5,\n";

    /// <summary>Delivers another raw file of <paramref name="rows"/> good rows.</summary>
    public void AddDelivery(string name, int rows, int firstId) => _ws.WriteRaw(name, SmallConfig.Rows(rows, firstId, seed: firstId));

    public CtbResult Ctb(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null) =>
        CtbProcess.Run(Root, [.. args, "--config", ConfigPath], env);

    public CtbProcess StartCtb(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? env = null) =>
        CtbProcess.Start(Root, [.. args, "--config", ConfigPath], env);

    /// <summary>What a finished pipeline must look like; the facts compared with a clean run.</summary>
    public sealed record Facts(string? FeaturesDigest, string? SplitsDigest, IReadOnlyList<string> RegistryFiles, int PromoteCommits, string? Champion);

    public Facts Read()
    {
        var features = LakeAudit.Table(LakeDir, "features");
        var splits = LakeAudit.Table(LakeDir, "splits");
        var champion = File.Exists(Path.Combine(Root, "models/small-model/aliases.json"))
            ? File.ReadAllText(Path.Combine(Root, "models/small-model/aliases.json")).Replace(" ", "").Replace("\n", "") : null;
        return new Facts(features.LatestDigest, splits.LatestDigest, RegistryFilesOnDisk(),
            GitRepo.Log(Root).Count(m => m.StartsWith("Promote ", StringComparison.Ordinal)), champion);
    }

    /// <summary>Everything that breaks a promise of a consistent workspace, empty when all hold.</summary>
    /// <param name="finished">False right after a kill: only the lake is checked. True after a completed run:
    /// everything, and equality with <paramref name="clean"/> when given.</param>
    public List<string> Violations(Facts? clean, bool finished = true)
    {
        var problems = new List<string>();
        foreach (var t in Tables)
        {
            var table = LakeAudit.Table(LakeDir, t);
            problems.AddRange(table.Problems);
            if (finished && table.Leftovers.Count > 0)
                problems.Add($"{t}: {table.Leftovers.Count} unreferenced file(s) left: {string.Join(", ", table.Leftovers.Select(Path.GetFileName))}");
        }
        if (!finished) return problems; // right after a kill only the lake must be whole; the rest is recovered on the next run
        problems.AddRange(RegistryProblems());
        problems.AddRange(TrackingProblems());

        problems.AddRange(RowProblems());
        var ctx = new StageContext(_ws.Load(), new MemoryLog(), new RunOptions());
        foreach (var stage in PipelineDefinition.Stages)
            if (StageRunner.Check(stage, ctx) is { UpToDate: false } f) problems.Add($"stage {stage.Name} is not fresh after the rerun: {f.Reason}");
        if (File.Exists(WorkspaceLock.PathFor(ctx.Workspace.StateDir))) problems.Add("the workspace lock file is still there");
        if (clean is not null)
        {
            var now = Read();
            if (now.FeaturesDigest != clean.FeaturesDigest) problems.Add("features differ from a clean run's");
            if (now.SplitsDigest != clean.SplitsDigest) problems.Add("splits differ from a clean run's");
            if (!now.RegistryFiles.SequenceEqual(clean.RegistryFiles)) problems.Add($"registry files [{string.Join(", ", now.RegistryFiles)}] differ from a clean run's");
            if (now.PromoteCommits != clean.PromoteCommits) problems.Add($"{now.PromoteCommits} promotion commits, a clean run makes {clean.PromoteCommits}");
            if (now.Champion != clean.Champion) problems.Add($"champion alias {now.Champion}, a clean run gives {clean.Champion}");
        }
        return problems;
    }

    /// <summary>raw holds every good row exactly once and quarantine every bad row exactly once.</summary>
    List<string> RowProblems()
    {
        var problems = new List<string>();
        var raw = RowCount("raw");
        if (raw.Rows != GoodRows || raw.Keys != GoodRows) problems.Add($"raw has {raw.Rows} rows and {raw.Keys} distinct keys; expected {GoodRows} of each");
        var quarantined = RowCount("quarantine");
        if (quarantined.Rows != BadRows) problems.Add($"quarantine has {quarantined.Rows} rows; expected {BadRows}");
        return problems;
    }

    /// <summary>Rows and distinct keys (raw: id; other tables: whole rows) of a table's latest version, read from its live files.</summary>
    public (long Rows, long Keys) RowCount(string table)
    {
        var files = LakeAudit.Table(LakeDir, table).LiveFiles;
        if (files.Count == 0) return (0, 0);
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        using var cmd = db.CreateCommand();
        var list = string.Join(", ", files.Select(f => "'" + f.Replace("'", "''") + "'"));
        cmd.CommandText = $"SELECT count(*), count(DISTINCT {(table == "raw" ? "id" : "t")}) FROM read_parquet([{list}], union_by_name = true) t";
        using var r = cmd.ExecuteReader();
        r.Read();
        return (Convert.ToInt64(r.GetValue(0)), Convert.ToInt64(r.GetValue(1)));
    }

    /// <summary>No registry file without its commit, no commit without its files, no change left pending.</summary>
    List<string> RegistryProblems()
    {
        var problems = new List<string>();
        var status = GitRepo.Run(Root, "status", "--porcelain", "--untracked-files=all", "--", "models/");
        if (status.Length > 0) problems.Add($"git status of models/ is not clean: {status.Replace('\n', ';')}");
        var head = GitRepo.Run(Root, "ls-tree", "-r", "--name-only", "HEAD", "--", "models/").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var disk = RegistryFilesOnDisk();
        if (!head.Order(StringComparer.Ordinal).SequenceEqual(disk))
            problems.Add($"HEAD holds [{string.Join(", ", head)}] under models/ but the folder holds [{string.Join(", ", disk)}]");
        return problems;
    }

    List<string> RegistryFilesOnDisk()
    {
        var models = Path.Combine(Root, "models");
        return Directory.Exists(models)
            ? Directory.EnumerateFiles(models, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList()
            : [];
    }

    /// <summary>After a rerun no run is still Running; a killed run is marked Failed, not left open.</summary>
    List<string> TrackingProblems()
    {
        var runs = Path.Combine(Root, ".ctb", "tracking", "runs");
        if (!Directory.Exists(runs)) return [];
        return Directory.EnumerateFiles(runs, "meta.json", SearchOption.AllDirectories)
            .Select(f => (File: f, Status: JsonDocument.Parse(File.ReadAllText(f)).RootElement.GetProperty("status").GetString()))
            .Where(m => m.Status == "Running")
            .Select(m => $"run {Path.GetFileName(Path.GetDirectoryName(m.File))} is still Running").ToList();
    }

    public void Dispose() => _ws.Dispose();
}
