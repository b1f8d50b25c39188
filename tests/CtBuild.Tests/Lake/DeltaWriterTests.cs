using System.Text.Json;
using CtBuild.Lake;

namespace CtBuild.Tests.Lake;

public sealed class DeltaWriterTests
{
    private static JsonElement[] LogLines(DeltaTable t, long version) =>
        File.ReadAllLines(Path.Combine(t.Folder, "_delta_log", $"{version:D20}.json"))
            .Select(l => JsonDocument.Parse(l).RootElement).ToArray();

    private static JsonElement Action(DeltaTable t, long version, string name) =>
        LogLines(t, version).Single(l => l.TryGetProperty(name, out _)).GetProperty(name);

    /// <summary>Rows of the reader's SQL minus rows of read_parquet over the same files, both ways: 0 when identical.</summary>
    private static long Difference(Db db, DeltaSnapshot s)
    {
        var files = "[" + string.Join(", ", s.Files.Select(f => $"'{f.Path}'")) + "]";
        var direct = $"(SELECT * FROM read_parquet({files}, union_by_name=true))";
        var mine = s.ToDuckDbSql();
        return Convert.ToInt64(db.Scalar($"SELECT (SELECT count(*) FROM (SELECT * FROM {mine} EXCEPT ALL SELECT * FROM {direct})) + " +
                                         $"(SELECT count(*) FROM (SELECT * FROM {direct} EXCEPT ALL SELECT * FROM {mine}))"));
    }

    [Fact]
    public void Create_append_overwrite_make_versions_that_read_back()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("raw"));
        Assert.False(t.Exists);
        Assert.Null(t.LatestVersion());
        var writer = new DeltaWriter(db.Connection);

        var r0 = writer.Write(t, "SELECT range AS id, 'n' || range AS name FROM range(0, 10)", WriteMode.Append, "WRITE");
        var r1 = writer.Write(t, "SELECT range AS id, 'n' || range AS name FROM range(10, 25)", WriteMode.Append, "WRITE");
        var r2 = writer.Write(t, "SELECT range AS id, 'x' AS name FROM range(100, 103)", WriteMode.Overwrite, "WRITE");

        Assert.True(t.Exists);
        Assert.Equal((0L, true, 10L), (r0.Version, r0.Committed, r0.RowsWritten));
        Assert.Equal((1L, true, 15L), (r1.Version, r1.Committed, r1.RowsWritten));
        Assert.Equal(2L, r2.Version);
        Assert.Equal(2L, t.LatestVersion());
        Assert.Equal([10L, 25L, 3L], new long[] { 0, 1, 2 }.Select(v => t.Snapshot(v).RowCount));
        Assert.Equal(25L, db.Count(t.Snapshot(1)));
        Assert.Equal([100L, 101L, 102L], db.Longs($"SELECT id FROM {t.Snapshot().ToDuckDbSql()} ORDER BY id"));
        foreach (var v in new long[] { 0, 1, 2 }) Assert.Equal(0, Difference(db, t.Snapshot(v)));

        var protocol = Action(t, 0, "protocol");
        Assert.Equal(1, protocol.GetProperty("minReaderVersion").GetInt32());
        Assert.Equal(2, protocol.GetProperty("minWriterVersion").GetInt32());
        var meta = Action(t, 0, "metaData");
        Assert.Equal("parquet", meta.GetProperty("format").GetProperty("provider").GetString());
        Assert.True(Guid.TryParse(meta.GetProperty("id").GetString(), out _));
        Assert.Equal(JsonValueKind.Number, meta.GetProperty("createdTime").ValueKind);
        Assert.Equal([new DeltaField("id", "long", true), new DeltaField("name", "string", true)], t.Snapshot().Schema);

        var add = Action(t, 0, "add");
        Assert.True(add.GetProperty("dataChange").GetBoolean());
        Assert.Equal(new FileInfo(t.Snapshot(0).Files[0].Path).Length, add.GetProperty("size").GetInt64());
        var stats = JsonDocument.Parse(add.GetProperty("stats").GetString()!).RootElement;
        Assert.Equal(10, stats.GetProperty("numRecords").GetInt64());
        Assert.Equal(0, stats.GetProperty("minValues").GetProperty("id").GetInt64());
        Assert.Equal(9, stats.GetProperty("maxValues").GetProperty("id").GetInt64());
        Assert.Equal("n9", stats.GetProperty("maxValues").GetProperty("name").GetString());
        Assert.Equal(0, stats.GetProperty("nullCount").GetProperty("name").GetInt64());

        // The overwrite removes both earlier files in the same commit and keeps them on disk for time travel.
        var removes = LogLines(t, 2).Where(l => l.TryGetProperty("remove", out _)).Select(l => l.GetProperty("remove")).ToList();
        Assert.Equal(2, removes.Count);
        Assert.All(removes, r => Assert.True(r.GetProperty("dataChange").GetBoolean()));
        Assert.All(removes, r => Assert.True(r.TryGetProperty("deletionTimestamp", out _)));
        Assert.All(t.Snapshot(1).Files, f => Assert.True(File.Exists(f.Path)));
        // commitInfo comes first (PROTOCOL-NOTES §7).
        Assert.True(LogLines(t, 2)[0].TryGetProperty("commitInfo", out _));
    }

    [Fact]
    public void History_returns_lineage_parameters_and_counts_newest_first()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("features"));
        var writer = new DeltaWriter(db.Connection);
        var lineage = new Lineage([new LineageSource("raw", 7), new LineageSource("lookup", 2)], "sql-abc", "cfg-123");
        writer.Write(t, "SELECT 1 AS a", WriteMode.Append, "WRITE");
        writer.Write(t, "SELECT range AS a FROM range(5)", WriteMode.Overwrite, "FEATURES",
            new Dictionary<string, string> { ["stage"] = "features" }, lineage,
            extraCommitInfo: new Dictionary<string, string> { ["ctbRunId"] = "run-42" });

        var history = t.History();
        Assert.Equal([1L, 0L], history.Select(h => h.Version));
        var h1 = history[0];
        Assert.Equal("FEATURES", h1.Operation);
        Assert.Equal("Overwrite", h1.OperationParameters["mode"]);
        Assert.Equal("features", h1.OperationParameters["stage"]);
        Assert.Equal(lineage.Sources, h1.Lineage!.Sources);
        Assert.Equal(("sql-abc", "cfg-123"), (h1.Lineage.SqlHash, h1.Lineage.ConfigHash));
        Assert.Equal("run-42", h1.Fields["ctbRunId"]);
        Assert.Equal("CtBuild/0.1", h1.Fields["engineInfo"]);
        Assert.Equal((5L, 1L), (h1.RecordsAdded, h1.RecordsRemoved));
        Assert.NotNull(h1.ContentDigest);
        Assert.Null(history[1].Lineage);
        Assert.Equal(h1.ContentDigest, t.Snapshot().CommitInfo!.ContentDigest);
    }

    [Fact]
    public void DuckDb_types_map_to_delta_types_and_values_survive()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("types"));
        const string select = """
            SELECT 'x'::VARCHAR s, 5::BIGINT l, 4::INTEGER i, 2.5::DOUBLE d, true b, DATE '2024-02-29' dt,
                   TIMESTAMP '2024-01-02 03:04:05.123456' ts, 12.34567::DECIMAL(12,5) amount, 1.5::FLOAT f,
                   3::SMALLINT sh, 1::TINYINT tb
            """;
        new DeltaWriter(db.Connection).Write(t, select, WriteMode.Append, "WRITE");
        var s = t.Snapshot();
        Assert.Equal(["string", "long", "integer", "double", "boolean", "date", "timestamp", "decimal(12,5)", "float", "short", "byte"],
            s.Schema.Select(f => f.DeltaType));
        var row = db.Rows($"SELECT s, l, i, d, b, CAST(dt AS VARCHAR), epoch_us(ts), CAST(amount AS VARCHAR), f, sh, tb FROM {s.ToDuckDbSql()}").Single();
        Assert.Equal(["x", 5L, 4, 2.5, true, "2024-02-29", 1704164645123456L, "12.34567", 1.5f, (short)3, (sbyte)1], row);
        Assert.Equal(0, Difference(db, s));

        var stats = JsonDocument.Parse(Action(t, 0, "add").GetProperty("stats").GetString()!).RootElement;
        Assert.Equal("2024-01-02T03:04:05.123Z", stats.GetProperty("minValues").GetProperty("ts").GetString());
        Assert.Equal("2024-01-02T03:04:05.124Z", stats.GetProperty("maxValues").GetProperty("ts").GetString());
        Assert.Equal(12.34567m, stats.GetProperty("maxValues").GetProperty("amount").GetDecimal());
        Assert.Equal("2024-02-29", stats.GetProperty("minValues").GetProperty("dt").GetString());
    }

    [Fact]
    public void Empty_result_is_a_valid_version_with_zero_rows_and_the_schema()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("empty"));
        var result = new DeltaWriter(db.Connection).Write(t, "SELECT 1::BIGINT AS id, 'a' AS name WHERE false", WriteMode.Append, "WRITE");
        Assert.Equal((0L, true, 0L), (result.Version, result.Committed, result.RowsWritten));
        var s = t.Snapshot();
        Assert.Equal(0, s.RowCount);
        Assert.Equal(0, db.Count(s));
        var columns = db.Rows($"DESCRIBE SELECT * FROM {s.ToDuckDbSql()}").Select(r => $"{r[0]}:{r[1]}");
        Assert.Equal(["id:BIGINT", "name:VARCHAR"], columns);
    }

    [Fact]
    public void Snapshot_without_files_is_an_empty_relation_with_typed_columns()
    {
        using var db = new Db();
        var s = new DeltaSnapshot("/nowhere", 3, DateTimeOffset.UnixEpoch,
            [new DeltaField("id", "long", true), new DeltaField("when", "date", true)], [], [], "id", null, new Dictionary<string, string>());
        Assert.Equal(["id:BIGINT", "when:DATE"], db.Rows($"DESCRIBE SELECT * FROM {s.ToDuckDbSql()}").Select(r => $"{r[0]}:{r[1]}"));
        Assert.Equal(0, db.Count(s));
    }

    [Fact]
    public void Unchanged_content_is_not_committed_again_whatever_the_row_order()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("digest"));
        var writer = new DeltaWriter(db.Connection);
        var first = writer.Write(t, "SELECT range AS id FROM range(100)", WriteMode.Overwrite, "WRITE", skipIfContentUnchanged: true);
        var same = writer.Write(t, "SELECT 99 - range AS id FROM range(100)", WriteMode.Overwrite, "WRITE", skipIfContentUnchanged: true);
        Assert.True(first.Committed);
        Assert.False(same.Committed);
        Assert.Equal(0L, same.Version);
        Assert.Equal(first.ContentDigest, same.ContentDigest);
        Assert.Single(Directory.GetFiles(t.Folder, "*.parquet"));

        // Duplicating a row changes the content even though XOR of the hashes would cancel it out.
        var changed = writer.Write(t, "SELECT range AS id FROM range(100) UNION ALL SELECT 5 UNION ALL SELECT 5", WriteMode.Overwrite, "WRITE", skipIfContentUnchanged: true);
        Assert.True(changed.Committed);
        Assert.Equal(1L, changed.Version);
        // Same values under another type is another schema, so another digest.
        var retyped = writer.Write(t, "SELECT range::INTEGER AS id FROM range(100)", WriteMode.Overwrite, "WRITE", skipIfContentUnchanged: true);
        Assert.NotEqual(first.ContentDigest, retyped.ContentDigest);
        Assert.True(retyped.Committed);
    }

    [Fact]
    public void Append_with_a_new_column_evolves_the_schema_and_a_type_change_is_refused()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("evolve"));
        var writer = new DeltaWriter(db.Connection);
        writer.Write(t, "SELECT range AS id FROM range(3)", WriteMode.Append, "WRITE");
        writer.Write(t, "SELECT 'x' AS tag, range AS id FROM range(3, 5)", WriteMode.Append, "WRITE");
        var s = t.Snapshot();
        Assert.Equal(["id", "tag"], s.Schema.Select(f => f.Name));
        Assert.Equal(Action(t, 0, "metaData").GetProperty("id").GetString(), s.MetadataId);
        Assert.Equal(3L, db.Scalar($"SELECT count(*) FROM {s.ToDuckDbSql()} WHERE tag IS NULL"));

        var wrongType = Assert.Throws<DeltaWriteException>(() => writer.Write(t, "SELECT 'a' AS id, 'x' AS tag", WriteMode.Append, "WRITE"));
        Assert.Contains("'id'", wrongType.Message);
        var missing = Assert.Throws<DeltaWriteException>(() => writer.Write(t, "SELECT 1::BIGINT AS id", WriteMode.Append, "WRITE"));
        Assert.Contains("'tag'", missing.Message);
        var nested = Assert.Throws<DeltaWriteException>(() => writer.Write(t, "SELECT [1, 2] AS id", WriteMode.Append, "WRITE"));
        Assert.Contains("CAST", nested.Message);
        // Overwrite may change the schema; the table id stays.
        writer.Write(t, "SELECT 1.5 AS score", WriteMode.Overwrite, "WRITE");
        Assert.Equal(["score"], t.Snapshot().Schema.Select(f => f.Name));
        Assert.Equal(s.MetadataId, t.Snapshot().MetadataId);
        Assert.Equal(2, t.Snapshot(1).Schema.Count);
    }

    [Fact]
    public void Appends_to_a_golden_table_with_checkpoint_continue_its_log()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = Golden.CopyTo("basic-with-inserts-deletes-checkpoint", tmp.Sub("golden"));
        var result = new DeltaWriter(db.Connection).Write(t, "SELECT range AS id FROM range(1000, 1004)", WriteMode.Append, "WRITE");
        Assert.Equal(14L, result.Version);
        Assert.Equal(45L, db.Count(t.Snapshot()));
        Assert.Equal(41L, db.Count(t.Snapshot(13)));
    }

    [Fact]
    public void Writing_to_a_table_that_needs_writer_features_is_refused()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = Golden.CopyTo("log-replay-latest-metadata-protocol", tmp.Sub("golden"));
        var e = Assert.Throws<DeltaProtocolException>(() =>
            new DeltaWriter(db.Connection).Write(t, "SELECT 1::BIGINT AS col1, 1::BIGINT AS col2", WriteMode.Append, "WRITE"));
        Assert.Contains("minWriterVersion 7", e.Message);
        Assert.Equal(2L, t.LatestVersion());
    }

    [Fact]
    public void CleanUntracked_deletes_only_old_unreferenced_data_files()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("clean"));
        var writer = new DeltaWriter(db.Connection);
        writer.Write(t, "SELECT 1 AS a", WriteMode.Append, "WRITE");
        writer.Write(t, "SELECT 2 AS a", WriteMode.Overwrite, "WRITE");
        // A crashed writer: a data file (and a temp log file) that no commit references.
        var orphan = Path.Combine(t.Folder, "part-00000-crashed.snappy.parquet");
        var fresh = Path.Combine(t.Folder, "part-00000-in-flight.snappy.parquet");
        var orphanTemp = Path.Combine(t.Folder, "_delta_log", ".ctb-commit-dead.tmp");
        db.Rows($"COPY (SELECT 3 AS a) TO '{orphan}' (FORMAT parquet)");
        db.Rows($"COPY (SELECT 4 AS a) TO '{fresh}' (FORMAT parquet)");
        File.WriteAllText(orphanTemp, "{");
        var old = DateTime.UtcNow.AddHours(-2);
        File.SetLastWriteTimeUtc(orphan, old);
        File.SetLastWriteTimeUtc(orphanTemp, old);
        foreach (var f in t.Snapshot(0).Files.Concat(t.Snapshot(1).Files)) File.SetLastWriteTimeUtc(f.Path, old);

        Assert.Equal(2, t.CleanUntracked(TimeSpan.FromHours(1)));
        Assert.False(File.Exists(orphan));
        Assert.False(File.Exists(orphanTemp));
        Assert.True(File.Exists(fresh)); // younger than minAge: may belong to a writer about to commit
        Assert.Equal(1L, db.Count(t.Snapshot(0))); // the file removed at v1 stays for time travel
        Assert.Equal(2, Convert.ToInt32(db.Scalar($"SELECT a FROM {t.Snapshot().ToDuckDbSql()}")));
        Assert.Equal(0, t.CleanUntracked(TimeSpan.FromHours(1)));
    }

    [Fact]
    public void Golden_unreferenced_file_is_cleaned_and_referenced_ones_kept()
    {
        using var tmp = new TempFolder();
        var t = Golden.CopyTo("data-skipping-basic-stats-all-types", tmp.Sub("golden"));
        Assert.Equal(1, t.CleanUntracked(TimeSpan.Zero));
        Assert.Single(Directory.GetFiles(t.Folder, "*.parquet"));
        Assert.Equal(1, t.Snapshot().RowCount);
    }

    [Fact]
    public void A_pending_write_commits_several_files_as_one_version_and_leaves_out_empty_ones()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("raw"));
        var writer = new DeltaWriter(db.Connection);

        using (var write = writer.Begin(t))
        {
            Assert.Equal(10L, write.Add("SELECT range AS id, 'a' AS f FROM range(0, 10)").Rows);
            Assert.Equal(0L, write.Add("SELECT range AS id, 'b' AS f FROM range(0, 0)").Rows);
            write.Add("SELECT range AS id, 'c' AS f FROM range(10, 15)");
            var result = write.Commit(WriteMode.Append, "WRITE");
            Assert.Equal((0L, true, 15L), (result.Version, result.Committed, result.RowsWritten));
        }

        var snapshot = t.Snapshot();
        Assert.Equal(2, snapshot.Files.Count);
        Assert.Equal(15, snapshot.RowCount);
        Assert.Equal(2, Directory.EnumerateFiles(t.Folder, "*.parquet").Count()); // the empty file is gone too
        Assert.Equal("2", Action(t, 0, "commitInfo").GetProperty("operationMetrics").GetProperty("numFiles").GetString());
        Assert.Equal(0, Difference(db, snapshot));
    }

    [Fact]
    public void A_pending_write_that_is_not_committed_leaves_no_files()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("raw"));
        var writer = new DeltaWriter(db.Connection);
        writer.Write(t, "SELECT 1 AS id", WriteMode.Append, "WRITE");

        using (var write = writer.Begin(t))
        {
            write.Add("SELECT range AS id FROM range(5)");
            Assert.Equal(2, Directory.EnumerateFiles(t.Folder, "*.parquet").Count());
        } // e.g. too many bad rows: the stage throws before committing

        Assert.Single(Directory.EnumerateFiles(t.Folder, "*.parquet"));
        Assert.Equal(0L, t.LatestVersion());
    }

    [Fact]
    public void Files_of_one_write_must_agree_on_column_types()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var t = DeltaTable.At(tmp.Sub("raw"));
        using var write = new DeltaWriter(db.Connection).Begin(t);
        write.Add("SELECT 1::BIGINT AS id");
        var ex = Assert.Throws<DeltaWriteException>(() => write.Add("SELECT 'x' AS id"));
        Assert.Contains("column 'id' is long in one file of this write and string in another", ex.Message);
    }
}
