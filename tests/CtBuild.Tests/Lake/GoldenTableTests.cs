using CtBuild.Lake;

namespace CtBuild.Tests.Lake;

/// <summary>Every golden table in shared/delta-golden, checked against the expectations in its INDEX.md.</summary>
public sealed class GoldenTableTests
{
    private static List<long> Range(long from, long toInclusive) =>
        Enumerable.Range((int)from, (int)(toInclusive - from + 1)).Select(i => (long)i).ToList();

    private static void AssertRowsAndFiles(string table, long[] rows, int[] files)
    {
        var t = Golden.Table(table);
        Assert.Equal(rows.Length - 1, t.LatestVersion());
        using var db = new Db();
        for (int v = 0; v < rows.Length; v++)
        {
            var s = t.Snapshot(v);
            Assert.Equal(files[v], s.Files.Count);
            Assert.Equal(rows[v], s.RowCount);
            Assert.Equal(rows[v], db.Count(s));
        }
    }

    [Fact]
    public void TimeTravelStart_has_2_4_6_files_and_rejects_missing_versions()
    {
        AssertRowsAndFiles("time-travel-start-start20-start40", [10, 20, 30], [2, 4, 6]);
        var t = Golden.Table("time-travel-start-start20-start40");
        using var db = new Db();
        Assert.Equal(Range(0, 19), db.Longs($"SELECT id FROM {t.Snapshot(1).ToDuckDbSql()} ORDER BY id"));
        var e3 = Assert.Throws<DeltaVersionNotFoundException>(() => t.Snapshot(3));
        Assert.Contains("0..2", e3.Message);
        var eNeg = Assert.Throws<DeltaVersionNotFoundException>(() => t.Snapshot(-1));
        Assert.Contains("0..2", eNeg.Message);
    }

    [Fact]
    public void TimeTravelStart_by_timestamp_uses_commit_file_mtimes()
    {
        using var tmp = new TempFolder();
        var t = Golden.CopyTo("time-travel-start-start20-start40", tmp.Sub("t"));
        var start = DateTimeOffset.FromUnixTimeMilliseconds(1540415658000);
        for (int v = 0; v < 3; v++)
            File.SetLastWriteTimeUtc(Path.Combine(t.Folder, "_delta_log", $"{v:D20}.json"), start.AddMinutes(20 * v).UtcDateTime);

        Assert.Equal(0, t.SnapshotAsOf(start.AddMinutes(10)).Version);
        Assert.Equal(1, t.SnapshotAsOf(start.AddMinutes(30)).Version);
        Assert.Equal(0, t.SnapshotAsOf(start).Version);
        Assert.Equal(1, t.SnapshotAsOf(start.AddMinutes(20)).Version);
        Assert.Equal(2, t.SnapshotAsOf(start.AddMinutes(40)).Version);
        Assert.Equal(4, t.SnapshotAsOf(start.AddMinutes(30)).Files.Count);
        Assert.Throws<DeltaVersionNotFoundException>(() => t.SnapshotAsOf(start.AddMinutes(50)));
        Assert.Throws<DeltaVersionNotFoundException>(() => t.SnapshotAsOf(start.AddMinutes(-1)));
        Assert.Equal(start.AddMinutes(40), t.History()[0].Timestamp);
    }

    [Fact]
    public void SnapshotRepartitioned_replays_overwrite_delete_and_rewrite()
    {
        AssertRowsAndFiles("snapshot-repartitioned", [10, 20, 10, 30, 20, 20], [2, 4, 2, 4, 3, 2]);
        var t = Golden.Table("snapshot-repartitioned");
        using var db = new Db();
        var rows = db.Rows($"SELECT col1, col2 FROM {t.Snapshot().ToDuckDbSql()} ORDER BY col1");
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"{i}:data-3-{i}"), rows.Select(r => $"{r[0]}:{r[1]}"));
        Assert.Equal(0L, db.Scalar($"SELECT count(*) FROM {t.Snapshot(2).ToDuckDbSql()} WHERE col2 NOT LIKE 'data-2-%'"));
    }

    [Fact]
    public void BasicWithInsertsDeletesCheckpoint_reads_through_checkpoint_10()
    {
        AssertRowsAndFiles("basic-with-inserts-deletes-checkpoint",
            [10, 20, 30, 40, 50, 45, 40, 35, 30, 25, 35, 45, 55, 41], [1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 6, 7, 8, 7]);
        var s = Golden.Table("basic-with-inserts-deletes-checkpoint").Snapshot();
        Assert.Equal("testId", s.MetadataId);
        Assert.Equal([new DeltaField("id", "long", true)], s.Schema);
        using var db = new Db();
        var expected = new[] { 0, 10, 20, 30, 40 }.SelectMany(b => Range(b, b + 4)).Concat(Range(50, 65)).ToList();
        Assert.Equal(expected, db.Longs($"SELECT id FROM {s.ToDuckDbSql()} ORDER BY id"));
    }

    [Fact]
    public void BasicWithInsertsOverwriteRestore_time_travels_across_overwrite_and_restore()
    {
        AssertRowsAndFiles("basic-with-inserts-overwrite-restore", [100, 200, 500, 200], [2, 4, 2, 4]);
        var t = Golden.Table("basic-with-inserts-overwrite-restore");
        using var db = new Db();
        Assert.Equal(Range(500, 999), db.Longs($"SELECT id FROM {t.Snapshot(2).ToDuckDbSql()} ORDER BY id"));
        Assert.Equal(Range(0, 199), db.Longs($"SELECT id FROM {t.Snapshot(3).ToDuckDbSql()} ORDER BY id"));
        Assert.Equal(Range(0, 199), db.Longs($"SELECT id FROM {t.Snapshot(1).ToDuckDbSql()} ORDER BY id"));
    }

    [Fact]
    public void MultiPartCheckpoint_reads_both_parts()
    {
        AssertRowsAndFiles("multi-part-checkpoint", [1, 31], [1, 10]);
        using var db = new Db();
        var ids = db.Longs($"SELECT id FROM {Golden.Table("multi-part-checkpoint").Snapshot().ToDuckDbSql()} ORDER BY id");
        Assert.Equal(new List<long> { 0 }.Concat(Range(0, 29)).ToList(), ids);
    }

    [Fact]
    public void CorruptedLastCheckpoint_falls_back_to_listing()
    {
        AssertRowsAndFiles("corrupted-last-checkpoint-kernel",
            [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 100], [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 2]);
        using var db = new Db();
        Assert.Equal(Range(0, 99), db.Longs($"SELECT id FROM {Golden.Table("corrupted-last-checkpoint-kernel").Snapshot().ToDuckDbSql()} ORDER BY id"));
    }

    [Fact]
    public void DataReaderPartitionValues_become_typed_columns()
    {
        var s = Golden.Table("data-reader-partition-values").Snapshot();
        Assert.Equal(3, s.Files.Count);
        Assert.Equal(12, s.PartitionColumns.Count);
        using var db = new Db();
        var sql = s.ToDuckDbSql();
        var types = db.Rows($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {sql})").ToDictionary(r => (string)r[0]!, r => (string)r[1]!);
        Assert.Equal("INTEGER", types["as_int"]);
        Assert.Equal("BIGINT", types["as_long"]);
        Assert.Equal("TINYINT", types["as_byte"]);
        Assert.Equal("SMALLINT", types["as_short"]);
        Assert.Equal("BOOLEAN", types["as_boolean"]);
        Assert.Equal("FLOAT", types["as_float"]);
        Assert.Equal("DOUBLE", types["as_double"]);
        Assert.Equal("DATE", types["as_date"]);
        Assert.Equal("TIMESTAMP WITH TIME ZONE", types["as_timestamp"]);
        Assert.Equal("DECIMAL(1,0)", types["as_big_decimal"]);

        var rows = db.Rows($"SELECT value, as_int, as_long, as_byte, as_short, as_boolean, as_float, as_double, as_string, " +
                           $"as_string_lit_null, epoch_ms(as_date) // 86400000, epoch_us(as_timestamp), CAST(as_big_decimal AS INTEGER), " +
                           $"as_nested_struct.ac.acb, list_transform(as_list_of_records, x -> x.val) FROM {sql} ORDER BY value");
        for (int i = 0; i < 2; i++)
        {
            var r = rows[i];
            Assert.Equal(i.ToString(), r[0]);
            Assert.Equal(i, Convert.ToInt32(r[1])); Assert.Equal((long)i, r[2]); Assert.Equal((sbyte)i, r[3]); Assert.Equal((short)i, r[4]);
            Assert.Equal(i == 0, r[5]); Assert.Equal((float)i, r[6]); Assert.Equal((double)i, r[7]);
            Assert.Equal(i.ToString(), r[8]); Assert.Equal("null", r[9]);
            Assert.Equal(18878L, Convert.ToInt64(r[10]));
            Assert.Equal(1631099471000000L, Convert.ToInt64(r[11]));
            Assert.Equal(i, Convert.ToInt32(r[12]));
            Assert.Equal((long)i, r[13]);
            Assert.Equal(new[] { i, i, i }, ((System.Collections.IEnumerable)r[14]!).Cast<object>().Select(Convert.ToInt32));
        }
        Assert.All(rows[2].Skip(1).Take(12), Assert.Null);
        Assert.Equal("2", rows[2][0]);
        Assert.Equal(1L, db.Scalar($"SELECT count(*) FROM {sql} WHERE as_long = 1"));
        Assert.Equal(1L, db.Scalar($"SELECT count(*) FROM {sql} WHERE as_boolean = false"));
    }

    [Fact]
    public void DataReaderEscapedChars_decodes_paths_once()
    {
        AssertRowsAndFiles("data-reader-escaped-chars", [1, 2, 3], [1, 2, 3]);
        var s = Golden.Table("data-reader-escaped-chars").Snapshot();
        Assert.All(s.Files, f => Assert.True(File.Exists(f.Path), f.Path));
        using var db = new Db();
        var rows = db.Rows($"SELECT _1, _2 FROM {s.ToDuckDbSql()} ORDER BY _1");
        Assert.Equal(["foo1:bar+%21", "foo2:bar+%22", "foo3:bar+%23"], rows.Select(r => $"{r[0]}:{r[1]}"));
    }

    [Fact]
    public void TimeTravelPartitionChanges_uses_the_schema_of_the_version_read()
    {
        var t = Golden.Table("time-travel-partition-changes-b");
        var v0 = t.Snapshot(0);
        Assert.Equal(["part5"], v0.PartitionColumns);
        Assert.Equal(10, v0.Files.Count);
        var v1 = t.Snapshot(1);
        Assert.Equal(["part2"], v1.PartitionColumns);
        Assert.Equal(4, v1.Files.Count);
        using var db = new Db();
        Assert.Equal(0L, db.Scalar($"SELECT count(*) FROM {v0.ToDuckDbSql()} WHERE part5 <> id % 5"));
        Assert.Equal(10L, db.Count(v0));
        Assert.Equal(Range(10, 19), db.Longs($"SELECT id FROM {v1.ToDuckDbSql()} WHERE part2 = id % 2 ORDER BY id"));
    }

    [Fact]
    public void TimeTravelSchemaChanges_reads_missing_columns_as_null()
    {
        var t = Golden.Table("time-travel-schema-changes-b");
        var v0 = t.Snapshot(0);
        Assert.Equal(["id"], v0.Schema.Select(f => f.Name));
        Assert.Equal(2, v0.Files.Count);
        var v1 = t.Snapshot(1);
        Assert.Equal(["id", "part"], v1.Schema.Select(f => f.Name));
        using var db = new Db();
        Assert.Equal(10L, db.Scalar($"SELECT count(*) FROM {v1.ToDuckDbSql()} WHERE part IS NULL AND id < 10"));
        Assert.Equal(10L, db.Scalar($"SELECT count(*) FROM {v1.ToDuckDbSql()} WHERE part = id AND id >= 10"));
        Assert.Equal(10L, db.Count(v0));
    }

    [Fact]
    public void LogReplayLatestMetadataProtocol_accepts_reader_v3_without_features()
    {
        AssertRowsAndFiles("log-replay-latest-metadata-protocol", [20, 40, 40], [2, 4, 4]);
        var s = Golden.Table("log-replay-latest-metadata-protocol").Snapshot();
        Assert.Equal(["col1", "col2"], s.Schema.Select(f => f.Name));
        using var db = new Db();
        Assert.Equal(10m, Convert.ToDecimal(db.Scalar($"SELECT CAST(sum(col2) AS BIGINT) FROM {s.ToDuckDbSql()}")));
        Assert.Equal(20L, db.Scalar($"SELECT count(*) FROM {s.ToDuckDbSql()} WHERE col2 IS NULL"));
    }

    [Fact]
    public void DataReaderPrimitives_reads_all_types_and_a_null_row()
    {
        var s = Golden.Table("data-reader-primitives").Snapshot();
        Assert.Equal(2, s.Files.Count);
        Assert.Equal(11, s.RowCount);
        using var db = new Db();
        var rows = db.Rows($"SELECT as_int, as_long, as_byte, as_short, as_boolean, as_float, as_double, as_string, as_binary, as_big_decimal " +
                           $"FROM {s.ToDuckDbSql()} ORDER BY as_int NULLS LAST");
        Assert.Equal(11, rows.Count);
        for (int i = 0; i < 10; i++)
        {
            var r = rows[i];
            Assert.Equal(i, r[0]); Assert.Equal((long)i, r[1]); Assert.Equal((sbyte)i, r[2]); Assert.Equal((short)i, r[3]);
            Assert.Equal(i % 2 == 0, r[4]); Assert.Equal((float)i, r[5]); Assert.Equal((double)i, r[6]); Assert.Equal(i.ToString(), r[7]);
            Assert.Equal(new byte[] { (byte)i, (byte)i }, ReadBytes(r[8]));
            Assert.Equal((decimal)i, Convert.ToDecimal(r[9]));
        }
        Assert.All(rows[10], Assert.Null);
    }

    private static byte[] ReadBytes(object? value) => value switch
    {
        byte[] b => b,
        Stream s => ReadAll(s),
        _ => throw new InvalidOperationException($"unexpected blob type {value?.GetType()}"),
    };

    private static byte[] ReadAll(Stream s) { var m = new MemoryStream(); s.CopyTo(m); return m.ToArray(); }

    [Fact]
    public void DataSkippingBasicStats_ignores_the_unreferenced_file_and_reads_int96()
    {
        var s = Golden.Table("data-skipping-basic-stats-all-types").Snapshot();
        Assert.Single(s.Files);
        Assert.Equal(1, s.RowCount);
        Assert.Equal(2, Directory.GetFiles(s.Folder, "*.parquet").Length);
        using var db = new Db();
        var r = db.Rows($"SELECT as_int, as_string, CAST(as_date AS VARCHAR), epoch_us(as_timestamp), as_big_decimal FROM {s.ToDuckDbSql()}").Single();
        Assert.Equal(0, r[0]); Assert.Equal("0", r[1]); Assert.Equal("2000-01-01", r[2]);
        Assert.Equal(946713600000000L, Convert.ToInt64(r[3]));
    }

    [Fact]
    public void KernelTimestampMicros_reads_partition_and_data_timestamps_as_utc()
    {
        var s = Golden.Table("kernel-timestamp-TIMESTAMP_MICROS").Snapshot();
        Assert.Equal(5, s.Files.Count);
        using var db = new Db();
        var rows = db.Rows($"SELECT id, epoch_us(part), epoch_us(time) FROM {s.ToDuckDbSql()} ORDER BY id");
        Assert.Equal(["0:1577866150001000:1580544550000000", "1:1633075760000000:915181200000000",
            "2:1633075760000000:946717200000000", "3:-31536000000000:-31536000000000", "4::"],
            rows.Select(r => $"{r[0]}:{r[1]}:{r[2]}"));
    }

    [Fact]
    public void BasicDecimalTable_reads_int32_int64_and_fixed_len_decimals()
    {
        var s = Golden.Table("basic-decimal-table").Snapshot();
        Assert.Equal(4, s.RowCount);
        Assert.Contains(new DeltaField("part", "decimal(12,5)", true), s.Schema);
        using var db = new Db();
        var rows = db.Rows($"SELECT CAST(part AS VARCHAR), CAST(col1 AS VARCHAR), CAST(col2 AS VARCHAR), CAST(col3 AS VARCHAR) FROM {s.ToDuckDbSql()} ORDER BY part DESC");
        Assert.Equal([
            "2342222.23454|111.11|22222.22222|3333333333.3333333333",
            "234.00000|1.00|2.00000|3.0000000000",
            "0.00004|0.00|0.00000|0.0000000000",
            "-2342342.23423|-999.99|-99999.99999|-9999999999.9999999999"], rows.Select(r => string.Join("|", r)));
        Assert.Equal(1L, db.Scalar($"SELECT count(*) FROM {s.ToDuckDbSql()} WHERE part = 2342222.23454"));
    }

    [Fact]
    public void IteratorBug125_reads_empty_files_and_checkpoint()
    {
        AssertRowsAndFiles("125-iterator-bug", [0, 1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        using var db = new Db();
        Assert.Equal(Range(1, 5), db.Longs($"SELECT col1 FROM {Golden.Table("125-iterator-bug").Snapshot().ToDuckDbSql()} ORDER BY col1"));
    }

    [Fact]
    public void DeleteReAddSameFile_keeps_the_re_added_path_live()
    {
        var t = Golden.Table("delete-re-add-same-file-different-transactions");
        Assert.Equal([1, 0, 1, 2], Enumerable.Range(0, 4).Select(v => t.Snapshot(v).Files.Count));
        var files = t.Snapshot().Files;
        Assert.Equal(["bar", "foo"], files.Select(f => f.LogPath).Order());
        Assert.Equal(1700000000000, files.Single(f => f.LogPath == "foo").ModificationTime);
    }

    [Fact]
    public void VersionsNotContiguous_is_an_error_naming_the_versions()
    {
        var t = Golden.Table("versions-not-contiguous");
        var e = Assert.Throws<DeltaLogException>(() => t.Snapshot());
        Assert.Contains("not contiguous", e.Message);
        Assert.Contains("[0, 2]", e.Message);
    }

    [Fact]
    public void DeletionVectors_are_refused_naming_the_feature()
    {
        var e = Assert.Throws<DeltaProtocolException>(() => Golden.Table("dv-partitioned-with-checkpoint").Snapshot());
        Assert.Contains("deletionVectors", e.Message);
        Assert.Equal(15, Golden.Table("dv-partitioned-with-checkpoint").LatestVersion());
    }

    [Fact]
    public void ColumnMapping_is_refused_naming_the_feature()
    {
        var e = Assert.Throws<DeltaProtocolException>(() => Golden.Table("table-with-columnmapping-mode-name").Snapshot());
        Assert.Contains("columnMapping", e.Message);
        Assert.Contains("'name'", e.Message);
    }

    [Fact]
    public void UnknownReaderVersion_is_refused()
    {
        var e = Assert.Throws<DeltaProtocolException>(() => Golden.Table("deltalog-invalid-protocol-version").Snapshot());
        Assert.Contains("minReaderVersion 99", e.Message);
    }
}
