using System.Text.Json;
using CtBuild.Lake;

namespace CtBuild.Tests.Lake;

public sealed class TableCompactionTests
{
    private static DeltaTable Appends(TempFolder tmp, Db db, int count, string name = "events")
    {
        var t = DeltaTable.At(tmp.Sub(name));
        var writer = new DeltaWriter(db.Connection) { CheckpointInterval = 0 };
        for (int i = 0; i < count; i++)
            writer.Write(t, $"SELECT range + {i * 1000} AS id, 'batch {i}' AS tag FROM range(50)", WriteMode.Append, "WRITE");
        return t;
    }

    private static List<string> Rows(Db db, DeltaSnapshot s) =>
        db.Rows($"SELECT id, tag FROM {s.ToDuckDbSql()} ORDER BY id").Select(r => $"{r[0]}:{r[1]}").ToList();

    [Fact]
    public void Optimize_rewrites_small_files_as_one_dataChange_false_commit_with_the_same_rows()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = Appends(tmp, db, 8);
        var before = t.Snapshot();
        var rowsBefore = Rows(db, before);

        var r = TableCompaction.Optimize(db.Connection, t, targetFileSize: 1 << 20);

        Assert.Equal((8L, 8, 8, 1, 1), (r.Version!.Value, r.FilesBefore, r.FilesRemoved, r.FilesAdded, r.FilesAfter));
        var after = t.Snapshot();
        Assert.Single(after.Files);
        Assert.Equal(rowsBefore, Rows(db, after));
        Assert.Equal(400, after.RowCount); // the new file's stats count its rows
        var lines = File.ReadAllLines(Path.Combine(t.Folder, "_delta_log", $"{8:D20}.json")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var files = lines.Where(l => l.TryGetProperty("add", out _) || l.TryGetProperty("remove", out _))
            .Select(l => l.TryGetProperty("add", out var a) ? a : l.GetProperty("remove")).ToList();
        Assert.Equal(9, files.Count);
        Assert.All(files, f => Assert.False(f.GetProperty("dataChange").GetBoolean()));
        var info = lines.Single(l => l.TryGetProperty("commitInfo", out _)).GetProperty("commitInfo");
        Assert.Equal("OPTIMIZE", info.GetProperty("operation").GetString());
        Assert.False(info.GetProperty("isBlindAppend").GetBoolean());
        Assert.Equal(7, info.GetProperty("readVersion").GetInt64());

        // Time travel: the version before still has its 8 files on disk and the same rows.
        Assert.Equal(8, t.Snapshot(7).Files.Count);
        Assert.Equal(rowsBefore, Rows(db, t.Snapshot(7)));
        Assert.Equal(rowsBefore, Rows(db, before));
        // Nothing left to do: a second optimize commits nothing.
        var again = TableCompaction.Optimize(db.Connection, t, targetFileSize: 1 << 20);
        Assert.False(again.Committed);
        Assert.Equal(8, t.LatestVersion());
    }

    [Fact]
    public void Files_are_packed_up_to_the_target_and_files_at_or_over_it_stay()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = Appends(tmp, db, 5);
        var size = t.Snapshot().Files.Max(f => f.Size);
        // A big file (over the target) first, then bins of two small files each.
        new DeltaWriter(db.Connection).Write(t, "SELECT range + 100000 AS id, md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS tag FROM range(20000)", WriteMode.Append, "WRITE");
        var big = t.Snapshot().Files.Single(f => f.Size > 3 * size);

        var r = TableCompaction.Optimize(db.Connection, t, targetFileSize: (long)(size * 2.5));

        var after = t.Snapshot();
        Assert.Contains(after.Files, f => f.Path == big.Path);
        Assert.Equal((4, 2), (r.FilesRemoved, r.FilesAdded)); // 5 small files: two bins of two, the fifth alone stays
        Assert.Equal(4, after.Files.Count);
        Assert.Equal(20250, db.Count(after));
    }

    [Fact]
    public async Task Concurrent_readers_see_the_old_files_or_the_new_ones_never_a_mix()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = Appends(tmp, db, 12);
        var expected = Rows(db, t.Snapshot());
        var oldFiles = t.Snapshot().Files.Select(f => f.Path).ToHashSet();
        var stop = false;
        var seen = new System.Collections.Concurrent.ConcurrentBag<(long Version, int Files, bool AllOld, bool NoneOld, bool SameRows)>();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            using var own = new Db();
            do
            {
                var s = DeltaTable.At(t.Folder).Snapshot();
                var paths = s.Files.Select(f => f.Path).ToList();
                seen.Add((s.Version, paths.Count, paths.All(oldFiles.Contains), !paths.Any(oldFiles.Contains), Rows(own, s).SequenceEqual(expected)));
            } while (!Volatile.Read(ref stop));
        })).ToList();

        Assert.True(SpinWait.SpinUntil(() => !seen.IsEmpty, TimeSpan.FromSeconds(30)));
        var r = TableCompaction.Optimize(db.Connection, t, targetFileSize: 1 << 20);
        Assert.True(SpinWait.SpinUntil(() => seen.Count(s => s.Version == 12) >= 2, TimeSpan.FromSeconds(30)));
        Volatile.Write(ref stop, true);
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(r.Committed);
        Assert.Contains(seen, s => s.Version == 11);
        Assert.Contains(seen, s => s.Version == 12);
        Assert.All(seen, s => Assert.True(s.SameRows, $"a reader at v{s.Version} saw other rows"));
        Assert.All(seen, s => Assert.True(s.Version == 11 ? s.AllOld && s.Files == 12 : s.NoneOld && s.Files == 1, $"v{s.Version}: {s.Files} files, mixed"));
    }

    [Fact]
    public void An_append_during_optimize_is_kept_and_an_overwrite_is_a_conflict_that_leaves_no_files()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = Appends(tmp, db, 4);
        using var other = new Db();

        // An append lands between the plan and the commit: optimize retries on top and the appended rows stay.
        var appended = false;
        var r = TableCompaction.Optimize(db.Connection, t, 1 << 20, 0, v =>
        {
            if (appended) return;
            appended = true;
            new DeltaWriter(other.Connection).Write(t, "SELECT 99999::BIGINT AS id, 'late' AS tag", WriteMode.Append, "WRITE");
        });
        Assert.Equal(5, r.Version);
        Assert.Equal(201, db.Count(t.Snapshot()));
        Assert.Equal(2, t.Snapshot().Files.Count);

        // An overwrite removes the files being compacted: conflict, nothing committed, no new file left behind.
        var t2 = Appends(tmp, db, 4, "other");
        var filesBefore = Directory.EnumerateFiles(t2.Folder, "*.parquet").Count();
        var overwritten = false;
        var e = Assert.Throws<DeltaConflictException>(() => TableCompaction.Optimize(db.Connection, t2, 1 << 20, 0, v =>
        {
            if (overwritten) return;
            overwritten = true;
            new DeltaWriter(other.Connection).Write(t2, "SELECT 1::BIGINT AS id, 'new' AS tag", WriteMode.Overwrite, "WRITE");
        }));
        Assert.Contains("removed", e.Message);
        Assert.Equal(4, t2.LatestVersion());
        Assert.Equal(filesBefore + 1, Directory.EnumerateFiles(t2.Folder, "*.parquet").Count()); // only the overwrite's file
        Assert.Equal(1, db.Count(t2.Snapshot()));
    }
}
