using System.Text.Json;
using CtBuild.Lake;
using CtBuild.Tests.CrashSafety;

namespace CtBuild.Tests.Lake;

/// <summary>Checkpoints CtBuild writes: when, in which layout, and that every way of reading the table agrees.</summary>
public sealed class CheckpointTests
{
    private static string Checkpoint(DeltaTable t, long v) => Path.Combine(t.Folder, "_delta_log", $"{v:D20}.checkpoint.parquet");

    /// <summary>Versions 0..12 with interval 5: appends, an overwrite at 7 (tombstones), appends.</summary>
    private static DeltaTable LongTable(TempFolder tmp, Db db, int interval = 5)
    {
        var t = DeltaTable.At(tmp.Sub("events"));
        var writer = new DeltaWriter(db.Connection) { CheckpointInterval = interval };
        for (int v = 0; v <= 12; v++)
        {
            var mode = v == 7 ? WriteMode.Overwrite : WriteMode.Append;
            var r = writer.Write(t, $"SELECT range + {v * 100} AS id, 'v{v}' AS tag FROM range(3)", mode, "WRITE");
            Assert.Equal(v, r.Version);
            Assert.Null(r.CheckpointError);
            Assert.Equal(v is 5 or 10, r.Checkpoint is not null);
        }
        return t;
    }

    private static List<string> Ids(Db db, DeltaSnapshot s) =>
        db.Rows($"SELECT id, tag FROM {s.ToDuckDbSql()} ORDER BY id").Select(r => $"{r[0]}:{r[1]}").ToList();

    [Fact]
    public void The_writer_checkpoints_every_interval_and_every_version_reads_the_same_through_checkpoint_and_replay()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = LongTable(tmp, db);

        Assert.True(File.Exists(Checkpoint(t, 5)));
        Assert.True(File.Exists(Checkpoint(t, 10)));
        Assert.Equal(2, Directory.EnumerateFiles(Path.Combine(t.Folder, "_delta_log"), "*.checkpoint.parquet").Count());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(t.Folder, "_delta_log"), ".ctb-*"));
        using (var hint = JsonDocument.Parse(File.ReadAllText(Path.Combine(t.Folder, "_delta_log", "_last_checkpoint"))))
        {
            Assert.Equal(10, hint.RootElement.GetProperty("version").GetInt64());
            var rows = Convert.ToInt64(db.Scalar($"SELECT count(*) FROM read_parquet('{Checkpoint(t, 10)}')"));
            Assert.Equal(rows, hint.RootElement.GetProperty("size").GetInt64());
            Assert.Equal(new FileInfo(Checkpoint(t, 10)).Length, hint.RootElement.GetProperty("sizeInBytes").GetInt64());
        }

        var log = DeltaLogFolder.List(t.Folder);
        for (long v = 0; v <= 12; v++)
        {
            var fromCheckpoint = LogReplay.Replay(log, v);
            var replayed = LogReplay.Replay(log, v, useCheckpoints: false);
            Assert.Equal(v >= 10 ? 10 : v >= 5 ? 5 : null, fromCheckpoint.CheckpointVersion);
            Assert.Null(replayed.CheckpointVersion);
            Assert.Equal(replayed.LiveFiles.Select(a => a.Path).Order(), fromCheckpoint.LiveFiles.Select(a => a.Path).Order());
            Assert.Equal(replayed.LiveFiles.Select(a => (a.Path, a.Size, a.Stats)).Order(), fromCheckpoint.LiveFiles.Select(a => (a.Path, a.Size, a.Stats)).Order());
            Assert.Equal(replayed.Tombstones.Select(r => r.Path).Order(), fromCheckpoint.Tombstones.Select(r => r.Path).Order());
            Assert.Equal(replayed.Metadata.SchemaString, fromCheckpoint.Metadata.SchemaString);
            Assert.Equal(replayed.Metadata.Id, fromCheckpoint.Metadata.Id);
            Assert.Equal((replayed.Protocol.MinReaderVersion, replayed.Protocol.MinWriterVersion), (fromCheckpoint.Protocol.MinReaderVersion, fromCheckpoint.Protocol.MinWriterVersion));
        }

        // The rows, not only the file lists: v12 holds the overwrite at 7 and the appends after it.
        var latest = t.Snapshot();
        Assert.Equal(Enumerable.Range(7, 6).SelectMany(v => Enumerable.Range(0, 3).Select(i => $"{v * 100 + i}:v{v}")).ToList(), Ids(db, latest));
        Assert.Equal(Ids(db, t.Snapshot(6)), Enumerable.Range(0, 7).SelectMany(v => Enumerable.Range(0, 3).Select(i => $"{v * 100 + i}:v{v}")).ToList());
    }

    [Fact]
    public void Independent_readers_agree_the_tests_json_replay_and_duckdb_reading_the_checkpoint_parquet_directly()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = LongTable(tmp, db);
        var checkpoint = Checkpoint(t, 10);

        // Replay of the JSON commits with plain parsing, as the crash-safety audit does it (no engine code).
        var audit = LakeAudit.Table(tmp.Path, "events");
        Assert.Empty(audit.Problems);
        var jsonLive = audit.LiveFiles.Select(f => Path.GetFileName(f)!).Order().ToList();
        Assert.Equal(jsonLive, t.Snapshot().Files.Select(f => Path.GetFileName(f.Path)).Order().ToList());

        // DuckDB on the checkpoint parquet alone: adds are v10's live files, one protocol and one metaData row.
        var fromParquet = db.Rows($"SELECT \"add\".path FROM read_parquet('{checkpoint}') WHERE \"add\" IS NOT NULL").Select(r => (string)r[0]!).Order().ToList();
        var replayAt10 = LogReplay.Replay(DeltaLogFolder.List(t.Folder), 10, useCheckpoints: false);
        Assert.Equal(replayAt10.LiveFiles.Select(a => a.Path).Order().ToList(), fromParquet);
        Assert.Equal(1L, db.Scalar($"SELECT count(*) FROM read_parquet('{checkpoint}') WHERE protocol IS NOT NULL AND protocol.minReaderVersion = 1 AND protocol.minWriterVersion = 2"));
        Assert.Equal(replayAt10.Metadata.SchemaString, db.Scalar($"SELECT metaData.schemaString FROM read_parquet('{checkpoint}') WHERE metaData IS NOT NULL"));
        // The 7 files the overwrite at v7 removed are tombstones; every file action says dataChange=false, as Spark's do.
        Assert.Equal(7L, db.Scalar($"SELECT count(*) FROM read_parquet('{checkpoint}') WHERE remove IS NOT NULL AND remove.deletionTimestamp > 0 AND remove.size > 0"));
        Assert.Equal(0L, db.Scalar($"SELECT count(*) FROM read_parquet('{checkpoint}') WHERE \"add\".dataChange OR remove.dataChange"));
        Assert.Equal(0L, db.Scalar($"SELECT count(*) FROM read_parquet('{checkpoint}') WHERE (\"add\" IS NOT NULL)::INT + (remove IS NOT NULL)::INT + (metaData IS NOT NULL)::INT + (protocol IS NOT NULL)::INT + (txn IS NOT NULL)::INT <> 1"));
        // Row counts in the checkpoint's stats strings match the rows of the files it lists, read directly.
        var files = string.Join(", ", fromParquet.Select(p => $"'{Path.Combine(t.Folder, p)}'"));
        Assert.Equal(Convert.ToInt64(db.Scalar($"SELECT count(*) FROM read_parquet([{files}])")),
            Convert.ToInt64(db.Scalar($"SELECT sum(CAST(json_extract(\"add\".stats, '$.numRecords') AS BIGINT))::BIGINT FROM read_parquet('{checkpoint}') WHERE \"add\" IS NOT NULL")));
    }

    [Fact]
    public void The_checkpoint_has_the_column_layout_of_the_checkpoints_Spark_wrote()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = LongTable(tmp, db);
        var spark = Path.Combine(Golden.Root, "basic-with-inserts-deletes-checkpoint", "_delta_log", "00000000000000000010.checkpoint.parquet");

        // Every leaf column CtBuild writes exists in Spark's checkpoint at the same path with the same physical
        // type and logical annotation, so Spark and delta-rs read it with their own checkpoint schema.
        List<(string Path, string Type, string Logical)> Leaves(string file)
        {
            var rows = db.Rows($"SELECT name, type, converted_type, num_children FROM parquet_schema('{file}')");
            var leaves = new List<(string, string, string)>();
            var stack = new Stack<(string Prefix, long Left)>();
            foreach (var r in rows.Skip(1))
            {
                while (stack.Count > 0 && stack.Peek().Left == 0) stack.Pop();
                var prefix = string.Join(".", stack.Reverse().Select(s => s.Prefix));
                if (stack.Count > 0) { var top = stack.Pop(); stack.Push((top.Prefix, top.Left - 1)); }
                var name = prefix.Length == 0 ? (string)r[0]! : prefix + "." + r[0];
                var children = r[3] is null ? 0 : Convert.ToInt64(r[3]);
                if (children > 0) stack.Push(((string)r[0]!, children));
                else leaves.Add((name, (string)r[1]!, r[2] as string == "UTF8" ? "UTF8" : ""));
            }
            return leaves;
        }
        var sparkLeaves = Leaves(spark).ToHashSet();
        var mine = Leaves(Checkpoint(t, 10));
        Assert.Contains(("add.path", "BYTE_ARRAY", "UTF8"), mine);
        Assert.Contains(("protocol.minReaderVersion", "INT32", ""), mine);
        Assert.Empty(mine.Where(l => !l.Path.StartsWith("protocol.readerFeatures") && !l.Path.StartsWith("protocol.writerFeatures")).Except(sparkLeaves));
    }

    [Theory]
    [InlineData("basic-with-inserts-deletes-checkpoint", 13)]
    [InlineData("basic-with-inserts-overwrite-restore", 3)]
    [InlineData("multi-part-checkpoint", 1)]
    [InlineData("corrupted-last-checkpoint-kernel", 11)]
    [InlineData("125-iterator-bug", 11)]
    public void Spark_checkpoints_read_the_same_as_replaying_their_commits(string table, long latest)
    {
        var log = DeltaLogFolder.List(Golden.Table(table).Folder);
        Assert.NotEmpty(log.Checkpoints);
        for (long v = 0; v <= latest; v++)
        {
            var a = LogReplay.Replay(log, v);
            var b = LogReplay.Replay(log, v, useCheckpoints: false);
            Assert.Equal(b.LiveFiles.Select(f => (f.Path, f.Size, f.Stats, f.PartitionValues.Count)).Order(), a.LiveFiles.Select(f => (f.Path, f.Size, f.Stats, f.PartitionValues.Count)).Order());
            Assert.Equal(b.Metadata.SchemaString, a.Metadata.SchemaString);
        }
        Assert.NotNull(LogReplay.Replay(log, latest).CheckpointVersion);
    }

    [Fact]
    public void A_truncated_checkpoint_or_a_hint_to_a_missing_one_falls_back_to_replaying_the_commits()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = LongTable(tmp, db);
        var expected = Ids(db, t.Snapshot());
        var logDir = Path.Combine(t.Folder, "_delta_log");

        // A hint naming a version that has no checkpoint (deleted, or never finished by another tool).
        File.WriteAllText(Path.Combine(logDir, "_last_checkpoint"), "{\"version\":12,\"size\":40}");
        Assert.Equal(expected, Ids(db, t.Snapshot()));
        File.WriteAllText(Path.Combine(logDir, "_last_checkpoint"), "");
        Assert.Equal(expected, Ids(db, t.Snapshot()));

        // A checkpoint cut in half (a copy interrupted by another tool): the older one at v5 is used instead.
        var bytes = File.ReadAllBytes(Checkpoint(t, 10));
        File.WriteAllBytes(Checkpoint(t, 10), bytes[..(bytes.Length / 2)]);
        Assert.Equal(5, LogReplay.Replay(DeltaLogFolder.List(t.Folder), 12).CheckpointVersion);
        Assert.Equal(expected, Ids(db, t.Snapshot()));

        // Both broken: every commit is replayed.
        File.WriteAllBytes(Checkpoint(t, 5), [0x50, 0x41, 0x52, 0x31]);
        Assert.Null(LogReplay.Replay(DeltaLogFolder.List(t.Folder), 12).CheckpointVersion);
        Assert.Equal(expected, Ids(db, t.Snapshot()));
        Assert.Equal(Ids(db, t.Snapshot(6)), Enumerable.Range(0, 7).SelectMany(v => Enumerable.Range(0, 3).Select(i => $"{v * 100 + i}:v{v}")).ToList());

        // The next checkpoint the writer writes replaces the broken one and is used again.
        var writer = new DeltaWriter(db.Connection) { CheckpointInterval = 5 };
        writer.Write(t, "SELECT 1300::BIGINT AS id, 'v13' AS tag", WriteMode.Append, "WRITE");
        writer.Write(t, "SELECT 1400::BIGINT AS id, 'v14' AS tag", WriteMode.Append, "WRITE");
        var r = writer.Write(t, "SELECT 1500::BIGINT AS id, 'v15' AS tag", WriteMode.Append, "WRITE");
        Assert.Equal(15, r.Checkpoint!.Version);
        Assert.Equal(15, LogReplay.Replay(DeltaLogFolder.List(t.Folder), 15).CheckpointVersion);
    }

    [Fact]
    public void A_checkpoint_that_cannot_be_written_leaves_the_commit_and_says_why()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("events"));
        var writer = new DeltaWriter(db.Connection) { CheckpointInterval = 2 };
        writer.Write(t, "SELECT 1 AS id", WriteMode.Append, "WRITE");
        writer.Write(t, "SELECT 2 AS id", WriteMode.Append, "WRITE");
        // A folder where the checkpoint file should go: the rename fails as a full or read-only disk would.
        Directory.CreateDirectory(Checkpoint(t, 2));

        var r = writer.Write(t, "SELECT 3 AS id", WriteMode.Append, "WRITE");

        Assert.True(r.Committed);
        Assert.Equal(2, r.Version);
        Assert.Null(r.Checkpoint);
        Assert.Contains("no checkpoint at version 2", r.CheckpointError);
        Assert.Equal([1L, 2L, 3L], db.Longs($"SELECT id FROM {t.Snapshot().ToDuckDbSql()} ORDER BY id"));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(t.Folder, "_delta_log"), ".ctb-*"));
    }

    [Fact]
    public void A_table_property_checkpointInterval_wins_over_the_writers_setting()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = Golden.CopyTo("multi-part-checkpoint", tmp.Sub("t")); // delta.checkpointInterval=1
        var r = new DeltaWriter(db.Connection) { CheckpointInterval = 0 }.Write(t, "SELECT 100::BIGINT AS id", WriteMode.Append, "WRITE");
        Assert.Equal(2, r.Checkpoint?.Version);
        Assert.Equal(32, db.Count(t.Snapshot()));
        Assert.Equal(2, LogReplay.Replay(DeltaLogFolder.List(t.Folder), 2).CheckpointVersion);
    }
}
