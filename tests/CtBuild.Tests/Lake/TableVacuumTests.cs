using CtBuild.Lake;

namespace CtBuild.Tests.Lake;

public sealed class TableVacuumTests
{
    /// <summary>
    /// v0 append A, v1 append B, v2 overwrite C (removes A, B), v3 append D, v4 optimize C+D into E. Commits
    /// v0..v2 are 30 days old, v3 20 days, v4 one day; every data file was written 30 days ago.
    /// </summary>
    internal static (DeltaTable Table, Dictionary<string, string> Files, DateTimeOffset Now) History(TempFolder tmp, Db db, string name = "events")
    {
        var t = DeltaTable.At(tmp.Sub(name));
        var w = new DeltaWriter(db.Connection) { CheckpointInterval = 0 };
        var files = new Dictionary<string, string>();
        string Newest() => t.Snapshot().Files.Select(f => f.Path).Except(files.Values).Single();
        w.Write(t, "SELECT 1::BIGINT AS id", WriteMode.Append, "WRITE"); files["A"] = Newest();
        w.Write(t, "SELECT 2::BIGINT AS id", WriteMode.Append, "WRITE"); files["B"] = Newest();
        w.Write(t, "SELECT 3::BIGINT AS id", WriteMode.Overwrite, "WRITE"); files["C"] = Newest();
        w.Write(t, "SELECT 4::BIGINT AS id", WriteMode.Append, "WRITE"); files["D"] = Newest();
        TableCompaction.Optimize(db.Connection, t, 1 << 20, 0); files["E"] = Newest();
        var now = DateTimeOffset.UtcNow;
        var ages = new[] { 30, 30, 30, 20, 1 };
        for (int v = 0; v < 5; v++)
            File.SetLastWriteTimeUtc(DeltaLogFolder.CommitPath(t.Folder, v), now.AddDays(-ages[v]).UtcDateTime);
        foreach (var f in files.Values) File.SetLastWriteTimeUtc(f, now.AddDays(-30).UtcDateTime);
        return (t, files, now);
    }

    private static List<long> Ids(Db db, DeltaSnapshot s) => db.Longs($"SELECT id FROM {s.ToDuckDbSql()} ORDER BY id");

    [Fact]
    public void A_dry_run_lists_only_files_no_version_in_the_window_needs_and_apply_deletes_exactly_those()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var (t, files, now) = History(tmp, db);

        var plan = TableVacuum.Plan(t, TimeSpan.FromDays(7), now);

        // v3 was current 7 days ago, so it and v4 are the window: A and B (removed at v2) are the only garbage.
        Assert.Equal((3L, 4L), (plan.OldestVersionKept, plan.LatestVersion));
        Assert.Equal(new[] { files["A"], files["B"] }.Order(), plan.Files.Select(f => f.Path).Order());
        Assert.False(plan.Applied);
        Assert.All(files.Values, f => Assert.True(File.Exists(f))); // a dry run deletes nothing

        var applied = TableVacuum.Apply(t, TimeSpan.FromDays(7), now);

        Assert.Equal(2, applied.Deleted);
        Assert.False(File.Exists(files["A"]));
        Assert.False(File.Exists(files["B"]));
        Assert.All(new[] { "C", "D", "E" }, k => Assert.True(File.Exists(files[k])));
        // Time travel inside the window still works, by version and by time.
        Assert.Equal([3L, 4L], Ids(db, t.Snapshot(3)));
        Assert.Equal([3L, 4L], Ids(db, t.Snapshot(4)));
        Assert.Equal(3, t.SnapshotAsOf(now.AddDays(-7)).Version);
        Assert.Equal([3L, 4L], Ids(db, t.SnapshotAsOf(now.AddDays(-7))));
        Assert.Equal([3L, 4L], Ids(db, t.SnapshotAsOf(now.AddDays(-2))));
        Assert.Empty(TableVacuum.Plan(t, TimeSpan.FromDays(7), now).Files);
    }

    [Fact]
    public void A_longer_window_keeps_the_version_current_at_its_start()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var (t, files, now) = History(tmp, db);

        // 25 days back v2 was current: C stays for it, A and B still go.
        var p25 = TableVacuum.Plan(t, TimeSpan.FromDays(25), now);
        Assert.Equal(2, p25.OldestVersionKept);
        Assert.Equal(new[] { files["A"], files["B"] }.Order(), p25.Files.Select(f => f.Path).Order());
        // 40 days back is before the first commit: every version is in the window, nothing goes.
        var p40 = TableVacuum.Plan(t, TimeSpan.FromDays(40), now);
        Assert.Equal(0, p40.OldestVersionKept);
        Assert.Empty(p40.Files);
        // 23 hours back v4 (a day old) was already current: only its file E stays.
        var p23h = TableVacuum.Plan(t, TimeSpan.FromHours(23), now);
        Assert.Equal(4, p23h.OldestVersionKept);
        Assert.Equal(new[] { files["A"], files["B"], files["C"], files["D"] }.Order(), p23h.Files.Select(f => f.Path).Order());
    }

    [Fact]
    public void Unreferenced_files_newer_than_the_cutoff_stay_and_a_short_retention_is_refused()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var (t, _, now) = History(tmp, db);
        // A file another writer has written but not committed yet, and an old orphan of a crashed writer.
        var pending = Path.Combine(t.Folder, $"part-00000-{Guid.NewGuid()}-c000.snappy.parquet");
        var orphan = Path.Combine(t.Folder, $"part-00000-{Guid.NewGuid()}-c000.snappy.parquet");
        File.Copy(t.Snapshot().Files[0].Path, pending);
        File.Copy(t.Snapshot().Files[0].Path, orphan);
        File.SetLastWriteTimeUtc(orphan, now.AddDays(-9).UtcDateTime);
        File.SetLastWriteTimeUtc(pending, now.AddMinutes(-1).UtcDateTime);

        var plan = TableVacuum.Plan(t, TimeSpan.FromDays(7), now);

        Assert.Contains(plan.Files, f => f.Path == orphan);
        Assert.DoesNotContain(plan.Files, f => f.Path == pending);
        var e = Assert.Throws<ConfigException>(() => TableVacuum.Plan(t, TimeSpan.FromMinutes(5), now));
        Assert.Contains("at least 1h", e.Message);
    }
}
