using System.Text.Json;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Tests.CrashSafety;
using CtBuild.Tests.Lake;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Cli;

/// <summary><c>ctb lake optimize</c> and <c>ctb lake vacuum</c> as real processes, including killed ones.</summary>
public sealed class LakeMaintenanceCommandsTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public void Dispose() => _ws.Dispose();

    string LakeDir => Path.Combine(_ws.Root, "data", "lake");

    CtbResult Ctb(IReadOnlyDictionary<string, string>? env, params string[] args) =>
        CtbProcess.Run(_ws.Root, [.. args, "--config", Path.Combine(_ws.Root, "ctbuild.json")], env);

    DeltaTable Appends(int count)
    {
        var t = DeltaTable.At(Path.Combine(LakeDir, "events"));
        using var db = new Db();
        var writer = new DeltaWriter(db.Connection) { CheckpointInterval = 0 };
        for (int i = 0; i < count; i++)
            writer.Write(t, $"SELECT range + {i * 100} AS id FROM range(5)", WriteMode.Append, "WRITE");
        return t;
    }

    static List<long> Ids(DeltaSnapshot s)
    {
        using var db = new Db();
        return db.Longs($"SELECT id FROM {s.ToDuckDbSql()} ORDER BY id");
    }

    [Fact]
    public void Optimize_prints_what_it_did_and_json_for_machines()
    {
        var t = Appends(4);
        var ids = Ids(t.Snapshot());

        var json = Ctb(null, "lake", "optimize", "events", "--target-size", "1MB", "--json");

        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.StdOut);
        Assert.Equal(4, doc.RootElement.GetProperty("filesRemoved").GetInt32());
        Assert.Equal(4, doc.RootElement.GetProperty("version").GetInt64());
        Assert.Equal(ids, Ids(t.Snapshot()));
        var again = Ctb(null, "lake", "optimize", "events");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("nothing to optimize", again.StdOut);
        var bad = Ctb(null, "lake", "optimize", "events", "--target-size", "lots");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("not a size like 64MB", bad.Output);
    }

    [Fact]
    public void A_process_killed_while_writing_a_checkpoint_leaves_the_commit_and_a_readable_table()
    {
        var t = Appends(10); // versions 0..9: optimize commits v10, where a checkpoint is due (interval 10)
        var ids = Ids(t.Snapshot());

        var killed = Ctb(new Dictionary<string, string> { [FaultInjection.PointVariable] = "lake.after-checkpoint-temp:events" },
            "lake", "optimize", "events", "--target-size", "1MB");

        Assert.True(killed.Killed, killed.Output);
        var logDir = Path.Combine(t.Folder, "_delta_log");
        Assert.True(File.Exists(DeltaLogFolder.CommitPath(t.Folder, 10)));
        Assert.Empty(Directory.EnumerateFiles(logDir, "*.checkpoint.parquet"));
        Assert.NotEmpty(Directory.EnumerateFiles(logDir, ".ctb-checkpoint-*.tmp"));
        var s = DeltaTable.At(t.Folder).Snapshot();
        Assert.Equal(10, s.Version);
        Assert.Single(s.Files);
        Assert.Equal(ids, Ids(s));
        Assert.Empty(LakeAudit.Table(LakeDir, "events").Problems);

        // Cleanup takes the temporary files once they are old enough; the next due commit writes a checkpoint.
        Assert.True(t.CleanUntracked(TimeSpan.Zero) >= 1);
        Assert.Empty(Directory.EnumerateFiles(logDir, ".ctb-checkpoint-*"));
    }

    [Fact]
    public void Vacuum_is_a_dry_run_by_default_and_a_kill_mid_vacuum_never_costs_a_file_the_window_needs()
    {
        using var db = new Db();
        var t = DeltaTable.At(Path.Combine(LakeDir, "events"));
        var w = new DeltaWriter(db.Connection) { CheckpointInterval = 0 };
        for (int i = 0; i < 4; i++) w.Write(t, $"SELECT {i}::BIGINT AS id", WriteMode.Append, "WRITE");
        w.Write(t, "SELECT 10::BIGINT AS id", WriteMode.Overwrite, "WRITE"); // v4 removes the 4 files
        w.Write(t, "SELECT 11::BIGINT AS id", WriteMode.Append, "WRITE");
        var now = DateTimeOffset.UtcNow;
        for (int v = 0; v <= 5; v++)
            File.SetLastWriteTimeUtc(DeltaLogFolder.CommitPath(t.Folder, v), now.AddDays(v <= 4 ? -30 : -1).UtcDateTime);
        foreach (var f in Directory.EnumerateFiles(t.Folder, "*.parquet")) File.SetLastWriteTimeUtc(f, now.AddDays(-30).UtcDateTime);
        var window = new[] { 4L, 5L }.ToDictionary(v => v, v => Ids(t.Snapshot(v)));

        var dry = Ctb(null, "lake", "vacuum", "events", "--retain", "7d", "--json");
        Assert.Equal(0, dry.ExitCode);
        using (var doc = JsonDocument.Parse(dry.StdOut))
        {
            Assert.False(doc.RootElement.GetProperty("applied").GetBoolean());
            Assert.Equal(4, doc.RootElement.GetProperty("fileCount").GetInt32());
            Assert.Equal(4, doc.RootElement.GetProperty("oldestVersionKept").GetInt64());
        }
        Assert.Equal(6, Directory.EnumerateFiles(t.Folder, "*.parquet").Count());
        var human = Ctb(null, "lake", "vacuum", "events");
        Assert.Contains("would delete 4 files", human.StdOut);
        Assert.Contains("--apply", human.StdOut);

        var killed = Ctb(new Dictionary<string, string> { [FaultInjection.PointVariable] = "lake.vacuum-after-delete:events" },
            "lake", "vacuum", "events", "--retain", "7d", "--apply");

        Assert.True(killed.Killed, killed.Output);
        Assert.Equal(5, Directory.EnumerateFiles(t.Folder, "*.parquet").Count()); // killed after its first delete
        foreach (var (v, ids) in window) Assert.Equal(ids, Ids(DeltaTable.At(t.Folder).Snapshot(v)));

        var rerun = Ctb(null, "lake", "vacuum", "events", "--retain", "7d", "--apply", "--json");
        Assert.Equal(0, rerun.ExitCode);
        using (var doc = JsonDocument.Parse(rerun.StdOut)) Assert.Equal(3, doc.RootElement.GetProperty("deleted").GetInt32());
        Assert.Equal(2, Directory.EnumerateFiles(t.Folder, "*.parquet").Count());
        foreach (var (v, ids) in window) Assert.Equal(ids, Ids(DeltaTable.At(t.Folder).Snapshot(v)));

        var tooShort = Ctb(null, "lake", "vacuum", "events", "--retain", "10m");
        Assert.Equal(2, tooShort.ExitCode);
        Assert.Contains("too short", tooShort.Output);
    }
}
