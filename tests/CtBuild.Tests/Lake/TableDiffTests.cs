using CtBuild.Lake;

namespace CtBuild.Tests.Lake;

public sealed class TableDiffTests
{
    [Fact]
    public void Psi_matches_a_hand_computed_case()
    {
        // A = 1..10: its deciles put one value in each of the 10 bins (share 0.1 each).
        // B = 1,1,1,1,1,2,3,4,5,6: bin 0 holds 5 values (0.5), bins 1-5 one each (0.1), bins 6-9 none (epsilon).
        // PSI = (0.5 - 0.1)·ln(0.5/0.1) + 5·0 + 4·(1e-4 - 0.1)·ln(1e-4/0.1)
        double expected = 0.4 * Math.Log(5) + 4 * (1e-4 - 0.1) * Math.Log(1e-4 / 0.1);
        Assert.Equal(3.4041, expected, 4); // the same sum worked out on paper: 0.6438 + 2.7603

        using var tmp = new TempFolder();
        using var db = new Db();
        var writer = new DeltaWriter(db.Connection);
        var t = DeltaTable.At(tmp.Sub("t"));
        writer.Write(t, "SELECT range AS x, CASE WHEN range <= 5 THEN 'a' ELSE 'b' END AS c FROM range(1, 11)", WriteMode.Overwrite, "WRITE");
        writer.Write(t, "SELECT x::BIGINT AS x, 'a' AS c FROM (VALUES (1), (1), (1), (1), (1), (2), (3), (4), (5), (6)) v(x)", WriteMode.Overwrite, "WRITE");

        var diff = TableDiff.Compare(db.Connection, t.Snapshot(0), t.Snapshot(1));
        var x = diff.Drift.Single(d => d.Name == "x");
        Assert.Equal(DriftKind.Numeric, x.Kind);
        Assert.Equal(expected, x.Psi, 9);
        Assert.True(x.Flagged);
        Assert.Equal(5.5, x.MeanA);
        Assert.Equal(2.5, x.MeanB); // (5·1 + 2 + 3 + 4 + 5 + 6) / 10
        Assert.Equal([3.25, 5.5, 7.75], x.QuantilesA!);

        // Categories: A = 5 'a' + 5 'b' (0.5, 0.5); B = 10 'a' (1.0, epsilon); "other" is empty on both sides.
        var c = diff.Drift.Single(d => d.Name == "c");
        Assert.Equal(DriftKind.Categorical, c.Kind);
        Assert.Equal(0.5 * Math.Log(2) + (1e-4 - 0.5) * Math.Log(1e-4 / 0.5), c.Psi, 9);
        Assert.Equal((10L, 10L), (diff.RowsA, diff.RowsB));
        Assert.Empty(diff.SchemaChanges);
    }

    [Fact]
    public void Identical_snapshots_have_zero_psi_and_schema_changes_are_listed()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var writer = new DeltaWriter(db.Connection);
        var t = DeltaTable.At(tmp.Sub("t"));
        writer.Write(t, "SELECT range AS x, range::INTEGER AS y, 'k' || (range % 3) AS s FROM range(100)", WriteMode.Overwrite, "WRITE");
        writer.Write(t, "SELECT range AS x, range::DOUBLE AS y, range AS z FROM range(100)", WriteMode.Overwrite, "WRITE");

        var same = TableDiff.Compare(db.Connection, t.Snapshot(0), t.Snapshot(0));
        Assert.All(same.Drift, d => Assert.Equal(0, d.Psi, 12));
        Assert.All(same.Drift, d => Assert.False(d.Flagged));

        var diff = TableDiff.Compare(db.Connection, t.Snapshot(0), t.Snapshot(1));
        Assert.Equal(["s:removed", "y:type changed", "z:added"], diff.SchemaChanges.Select(c => $"{c.Column}:{c.Change}").Order());
        Assert.Equal(["x"], diff.Drift.Select(d => d.Name));
    }

    [Fact]
    public void LakeCatalog_lists_tables_with_versions_rows_and_unreadable_ones()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var writer = new DeltaWriter(db.Connection);
        writer.Write(DeltaTable.At(tmp.Sub("raw")), "SELECT range AS x FROM range(7)", WriteMode.Append, "WRITE");
        writer.Write(DeltaTable.At(tmp.Sub("raw")), "SELECT range AS x FROM range(3)", WriteMode.Append, "WRITE");
        writer.Write(DeltaTable.At(Path.Combine(tmp.Path, "derived", "features")), "SELECT 1 AS f", WriteMode.Append, "WRITE");
        Golden.CopyTo("deltalog-invalid-protocol-version", tmp.Sub("refused"));
        Directory.CreateDirectory(tmp.Sub("not-a-table"));

        var tables = LakeCatalog.List(tmp.Path);
        Assert.Equal(["derived/features", "raw", "refused"], tables.Select(s => s.Name));
        var raw = tables.Single(s => s.Name == "raw");
        Assert.Equal((1L, 10L, 2), (raw.LatestVersion, raw.Rows, raw.Files));
        Assert.Equal(DeltaTable.At(tmp.Sub("raw")).Snapshot().Files.Sum(f => new FileInfo(f.Path).Length), raw.Bytes);
        Assert.True(raw.LastCommitTime > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Null(raw.Error);
        Assert.Contains("minReaderVersion 99", tables.Single(s => s.Name == "refused").Error);
    }

    [Fact]
    public void Lineage_columns_keep_schema_checks_but_get_no_drift()
    {
        using var tmp = new TempFolder();
        using var db = new Db();
        var writer = new DeltaWriter(db.Connection);
        var t = DeltaTable.At(tmp.Sub("t"));
        writer.Write(t, "SELECT range AS x, 'a.csv' AS _source_file FROM range(100)", WriteMode.Append, "WRITE");
        writer.Write(t, "SELECT range AS x, 'b.csv' AS _source_file FROM range(100)", WriteMode.Append, "WRITE");

        var diff = TableDiff.Compare(db.Connection, t.Snapshot(0), t.Snapshot(1), ["_source_file"]);

        Assert.Equal(["x"], diff.Drift.Select(d => d.Name));
        Assert.True(TableDiff.Compare(db.Connection, t.Snapshot(0), t.Snapshot(1)).Drift.Single(d => d.Name == "_source_file").Flagged);
    }
}
