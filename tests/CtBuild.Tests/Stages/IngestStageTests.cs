using CtBuild.Lake;
using CtBuild.Stages;
using CtBuild.Storage;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Stages;

public sealed class IngestStageTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public void Dispose() => _ws.Dispose();

    long Count(string table, string where = "true", TempWorkspace? ws = null)
    {
        var t = LakeTables.Open((ws ?? _ws).Load(), table);
        if (!t.Exists) return 0;
        using var db = DuckDb.Open();
        return db.Scalar<long>($"SELECT count(*) FROM {t.Snapshot().ToDuckDbSql()} WHERE {where}");
    }

    List<(long Line, string? Column, string Rule)> Quarantined(string file, TempWorkspace? ws = null)
    {
        var t = LakeTables.Open((ws ?? _ws).Load(), IngestStage.QuarantineTable);
        using var db = DuckDb.Open();
        return db.Query($"SELECT line, \"column\", rule FROM {t.Snapshot().ToDuckDbSql()} WHERE source_file = '{file}' ORDER BY line",
            r => (Convert.ToInt64(r.GetValue(0)), r.IsDBNull(1) ? null : r.GetString(1), r.GetString(2)));
    }

    [Fact]
    public void Every_row_lands_in_raw_or_quarantine_with_its_line()
    {
        using var ws = new TempWorkspace().WithConfig(SmallConfig.Json(extraIngest: "\"maxBadFraction\": 0.9,").Replace("\"maxBadFraction\": 0.5,", "")).WithFeaturesSql(SmallConfig.FeaturesSql);
        ws.WriteRaw("a.csv", string.Join("\n",
            SmallConfig.Header,
            "1,30,Oslo,1.5,yes",          // line 2 good
            "2,abc,Lima,2.5,no",          // line 3 not an int
            "3,40,Lima,2.5",              // line 4 too few fields
            "4,41,Lima,2.5,no,extra",     // line 5 too many fields
            "5,200,Pune,0.1,no",          // line 6 above max
            "6,50,Paris,0.1,no",          // line 7 not allowed
            "7,51,Oslo,0.2,maybe",        // line 8 label outside set
            ",52,Oslo,0.3,yes",           // line 9 missing id
            "\"8\",53,\"Oslo\",0.4,yes",  // line 10 good, quoted
            "9,?,Lima,NA,no",             // line 11 good, missing markers
            "") + "\n");

        var result = ws.Run(new IngestStage());

        Assert.True(result.Ran);
        Assert.Equal(3, Count("raw", ws: ws));
        var bad = Quarantined("a.csv", ws);
        Assert.Equal(10, Count("raw", ws: ws) + bad.Count); // 10 data rows in the file
        Assert.Equal([3L, 4, 5, 6, 7, 8, 9], bad.Select(b => b.Line));
        Assert.Equal("not a valid int", bad[0].Rule);
        Assert.Equal("age", bad[0].Column);
        Assert.Equal("malformed record", bad[1].Rule);
        Assert.Equal("malformed record", bad[2].Rule);
        Assert.Equal("above the maximum", bad[3].Rule);
        Assert.Equal("not an allowed value", bad[4].Rule);
        Assert.Equal("label not in the declared values", bad[5].Rule);
        Assert.Equal(("id", "missing value in a non-nullable column"), (bad[6].Column, bad[6].Rule));
        Assert.Equal([2L, 10, 11], LinesOf("a.csv", ws));
        Assert.Equal(1, Count("raw", "age IS NULL AND score IS NULL", ws));
    }

    List<long> LinesOf(string file, TempWorkspace? ws = null)
    {
        using var db = DuckDb.Open();
        return db.Query($"SELECT _source_line FROM {LakeTables.Open((ws ?? _ws).Load(), "raw").Snapshot().ToDuckDbSql()} WHERE _source_file = '{file}' ORDER BY 1",
            r => Convert.ToInt64(r.GetValue(0)));
    }

    [Fact]
    public void Quoted_newlines_keep_line_numbers_right()
    {
        _ws.WriteRaw("multi.csv", "id,age,city,score,label\n0,29,Oslo,1,no\n1,30,\"Os\nlo\",1,yes\n2,x,Lima,1,no\n3,31,Lima,1,no\n");
        _ws.Run(new IngestStage());
        Assert.Equal([2L, 6], LinesOf("multi.csv"));
        Assert.Equal([3L, 5], Quarantined("multi.csv").Select(q => q.Line));
    }

    [Fact]
    public void Reads_gzip_parquet_and_json_lines()
    {
        _ws.WriteRaw("b.csv.gz", SmallConfig.Rows(20, firstId: 1));
        _ws.WriteRaw("c.jsonl", "{\"id\": 100, \"age\": 33, \"city\": \"Lima\", \"score\": 1.5, \"label\": \"no\"}\n{not json}\n{\"id\": 101, \"age\": 34, \"city\": \"Oslo\", \"score\": 2, \"label\": \"yes\"}\n");
        using (var db = DuckDb.Open())
            db.Exec($"COPY (SELECT 200 + i AS id, 20 AS age, 'Pune' AS city, 0.5 AS score, 'no' AS label FROM range(5) t(i)) TO '{Path.Combine(_ws.RawDir, "d.parquet")}' (FORMAT parquet)");

        _ws.Run(new IngestStage());

        Assert.Equal(20 + 2 + 5, Count("raw"));
        Assert.Equal([2L], Quarantined("c.jsonl").Select(q => q.Line));
        Assert.Equal([1L, 3], LinesOf("c.jsonl"));
    }

    [Fact]
    public void A_file_is_ingested_once_and_a_new_file_makes_a_new_version()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Rows(10));
        var first = _ws.Run(new IngestStage());
        var again = _ws.Run(new IngestStage());
        Assert.False(again.Ran);
        Assert.Equal("up to date", again.Reason);

        _ws.WriteRaw("copy-of-a.csv", SmallConfig.Rows(10)); // same bytes, new name
        _ws.WriteRaw("b.csv", SmallConfig.Rows(5, firstId: 100, seed: 2));
        var third = _ws.Run(new IngestStage());

        Assert.True(third.Ran);
        Assert.Equal(15, Count("raw"));
        Assert.Equal(long.Parse(first.Outputs!.Get("raw.version")!) + 1, long.Parse(third.Outputs!.Get("raw.version")!));
        Assert.Contains(_ws.Log.Lines, l => l.Contains("copy-of-a.csv has the same content"));
    }

    [Fact]
    public void A_changed_file_replaces_its_earlier_rows()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Rows(10));
        _ws.WriteRaw("b.csv", SmallConfig.Rows(4, firstId: 50));
        _ws.Run(new IngestStage());
        _ws.WriteRaw("a.csv", SmallConfig.Rows(7, seed: 9));
        _ws.Run(new IngestStage());
        Assert.Equal(11, Count("raw"));
        Assert.Equal(7, Count("raw", "_source_file = 'a.csv'"));
    }

    [Fact]
    public void Empty_and_header_only_files_add_no_rows()
    {
        _ws.WriteRaw("empty.csv", "");
        _ws.WriteRaw("header.csv", SmallConfig.Header + "\n");
        var result = _ws.Run(new IngestStage());
        Assert.True(result.Ran);
        Assert.Equal(0, Count("raw"));
        Assert.Contains(_ws.Log.Lines, l => l.Contains("empty.csv holds no rows"));
    }

    [Fact]
    public void Non_utf8_bytes_are_quarantined()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(SmallConfig.Header + "\n1,30,Oslo,1,yes\n2,31,Lima,1,no\n").ToList();
        bytes.AddRange([(byte)'3', (byte)',', (byte)'3', (byte)'2', (byte)',', 0xE9, (byte)',', (byte)'1', (byte)',', (byte)'n', (byte)'o', (byte)'\n']);
        _ws.WriteRawBytes("latin1.csv", [.. bytes]);
        _ws.Run(new IngestStage());
        Assert.Equal(2, Count("raw"));
        Assert.Equal([4L], Quarantined("latin1.csv").Select(q => q.Line));
    }

    [Fact]
    public void Too_many_bad_rows_fail_naming_the_top_reason_and_commit_nothing()
    {
        _ws.WriteRaw("good.csv", SmallConfig.Rows(5));
        _ws.Run(new IngestStage());
        var before = LakeTables.LatestVersion(_ws.Load(), "raw");

        _ws.WriteRaw("bad.csv", SmallConfig.Header + "\n100,x,Oslo,1,yes\n101,y,Oslo,1,yes\n102,30,Oslo,1,yes\n");
        var ex = Assert.Throws<CtBuildException>(() => _ws.Run(new IngestStage()));

        Assert.Contains("bad.csv: 2 of 3 rows", ex.Message);
        Assert.Contains("age: not a valid int (2 rows, first at line 2: ", ex.Message);
        Assert.Equal(before, LakeTables.LatestVersion(_ws.Load(), "raw"));
        Assert.Equal(5, Count("raw"));
    }

    [Fact]
    public void Schema_drift_fails_by_default_naming_file_and_columns()
    {
        _ws.WriteRaw("drift.csv", "id,age,city,score,label,colour\n1,30,Oslo,1,yes,red\n");
        var ex = Assert.Throws<CtBuildException>(() => _ws.Run(new IngestStage()));
        Assert.Contains("drift.csv: schema drift, extra column(s): colour", ex.Message);
    }

    [Fact]
    public void Schema_drift_policy_dropExtra_drops_and_records_extra_columns()
    {
        using var ws = new TempWorkspace().WithConfig(SmallConfig.Json(extraIngest: "\"schemaDrift\": \"dropExtra\",")).WithFeaturesSql(SmallConfig.FeaturesSql);
        // columns in another order, one extra, one nullable column missing: matched by name, never shifted
        ws.WriteRaw("drift.csv", "label,colour,id,city,age\nyes,red,1,Oslo,30\nno,blue,2,Lima,40\n");
        ws.Run(new IngestStage());
        using var db = DuckDb.Open();
        var rows = db.Query($"SELECT id, age, city, score, label FROM {LakeTables.Open(ws.Load(), "raw").Snapshot().ToDuckDbSql()} ORDER BY id",
            r => $"{r.GetValue(0)},{r.GetValue(1)},{r.GetValue(2)},{(r.IsDBNull(3) ? "null" : r.GetValue(3))},{r.GetValue(4)}");
        Assert.Equal(["1,30,Oslo,null,yes", "2,40,Lima,null,no"], rows);
        Assert.Contains(ws.Log.Lines, l => l.Contains("extra column(s) dropped by the schemaDrift policy: colour"));
    }

    [Fact]
    public void An_all_null_nullable_column_is_accepted()
    {
        _ws.WriteRaw("nulls.csv", SmallConfig.Header + "\n1,,Oslo,,yes\n2,,Lima,,no\n");
        _ws.Run(new IngestStage());
        Assert.Equal(2, Count("raw", "age IS NULL AND score IS NULL"));
    }

    [Fact]
    public void Raw_bytes_are_captured_by_content_hash()
    {
        var path = _ws.WriteRaw("a.csv", SmallConfig.Rows(3));
        _ws.Run(new IngestStage());
        var sha = Hashing.Sha256File(path);
        var captured = Path.Combine(_ws.Load().LakeDir, "_captures", sha[..2], sha + ".csv");
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(captured));
        Assert.Equal(3, Count("raw", $"_source_sha256 = '{sha}'"));
    }

    [Fact]
    public void Lines_stay_exact_deep_in_a_large_file_with_blank_lines_and_crlf()
    {
        // 60,000 rows over several MiB, CRLF endings, a blank line every 997 lines, bad rows of both kinds far in.
        var s = new System.Text.StringBuilder(SmallConfig.Header + "\r\n");
        long line = 1;
        var expected = new Dictionary<long, long>(); // id -> line
        var badLines = new List<long>();
        for (var id = 1; id <= 60_000; id++)
        {
            if (id % 997 == 0) { s.Append("\r\n"); line++; }
            line++;
            if (id % 20_011 == 0) { s.Append($"{id},abc,Oslo,1.5,yes\r\n"); badLines.Add(line); }       // not an int: DuckDB rejects it
            else if (id % 15_013 == 0) { s.Append($"{id},30,Paris,1.5,yes\r\n"); badLines.Add(line); }  // breaks a rule: caught by the tap during the one read
            else { s.Append($"{id},{id % 90},Lima,{id % 7}.25,{(id % 3 == 0 ? "yes" : "no")}\r\n"); expected[id] = line; }
        }
        _ws.WriteRaw("big.csv", s.ToString());

        _ws.Run(new IngestStage());

        using var db = DuckDb.Open();
        var lines = db.Query($"SELECT id, _source_line FROM {LakeTables.Open(_ws.Load(), "raw").Snapshot().ToDuckDbSql()}",
            r => (Convert.ToInt64(r.GetValue(0)), Convert.ToInt64(r.GetValue(1)))).ToDictionary(x => x.Item1, x => x.Item2);
        Assert.Equal(expected.Count, lines.Count);
        Assert.All(expected, e => Assert.Equal(e.Value, lines[e.Key]));
        var bad = Quarantined("big.csv");
        Assert.Equal(badLines.Order(), bad.Select(b => b.Line));
        Assert.Equal(60_000, lines.Count + bad.Count);
    }

    [Fact]
    public void A_row_both_unparseable_and_breaking_a_rule_is_quarantined_once()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Header + "\n1,30,Oslo,1,yes\n2,abc,Paris,1,no\n3,31,Paris,1,no\n4,32,Lima,1,no\n");
        _ws.Run(new IngestStage());
        Assert.Equal(new List<(long, string?, string)> { (3, "age", "not a valid int"), (4, "city", "not an allowed value") }, Quarantined("a.csv"));
        Assert.Equal(2, Count("raw"));
    }

    [Fact]
    public void Each_delivered_file_is_one_data_file_of_a_single_raw_commit()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Rows(10));
        _ws.WriteRaw("b.csv", SmallConfig.Rows(5, firstId: 100, seed: 2));
        _ws.WriteRaw("header-only.csv", SmallConfig.Header + "\n");
        var result = _ws.Run(new IngestStage());

        var raw = LakeTables.Open(_ws.Load(), "raw");
        Assert.Equal(0L, raw.LatestVersion());
        Assert.Equal(2, raw.Snapshot().Files.Count); // the empty file adds no data file
        Assert.Equal(15, Count("raw"));
        Assert.Equal("15", result.Outputs!.Get("rows.good"));
    }

    /// <summary>999 data rows; the record on file line 501 opens a quote that never closes.</summary>
    static string FileWithUnterminatedQuote()
    {
        var lines = new List<string> { SmallConfig.Header };
        for (var id = 1; id <= 999; id++)
            lines.Add(id == 500 ? $"{id},30,\"Oslo,1.5,yes" : $"{id},{20 + id % 50},Lima,{id % 7}.5,{(id % 2 == 0 ? "yes" : "no")}");
        return string.Join("\n", lines) + "\n";
    }

    [Fact]
    public void An_unterminated_quote_quarantines_every_line_from_it_on_and_counts_them()
    {
        using var ws = new TempWorkspace().WithConfig(SmallConfig.Json().Replace("\"maxBadFraction\": 0.5", "\"maxBadFraction\": 0.9")).WithFeaturesSql(SmallConfig.FeaturesSql);
        ws.WriteRaw("broken.csv", FileWithUnterminatedQuote());

        var result = ws.Run(new IngestStage());

        Assert.Equal("499", result.Outputs!.Get("rows.good"));
        Assert.Equal("500", result.Outputs!.Get("rows.quarantined"));
        Assert.Equal(Enumerable.Range(2, 499).Select(i => (long)i), LinesOf("broken.csv", ws));
        var bad = Quarantined("broken.csv", ws);
        Assert.Equal(Enumerable.Range(501, 500).Select(i => (long)i), bad.Select(b => b.Line));
        Assert.Equal(500, Count(IngestStage.QuarantineTable, "reason = 'unterminated quote opened at line 501' AND record NOT LIKE '%\n%'", ws));
        Assert.Equal(1, Count(IngestStage.QuarantineTable, "line = 1000 AND record = '999,69,Lima,5.5,no'", ws));
    }

    [Fact]
    public void An_unterminated_quote_counts_against_maxBadFraction_and_the_refusal_names_the_line()
    {
        _ws.WriteRaw("broken.csv", FileWithUnterminatedQuote());

        var ex = Assert.Throws<CtBuildException>(() => _ws.Run(new IngestStage()));

        Assert.Contains("broken.csv: 500 of 999 rows", ex.Message);
        Assert.Contains("unterminated quote opened at line 501", ex.Message);
        Assert.False(LakeTables.Open(_ws.Load(), "raw").Exists);
    }

    [Fact]
    public void Quotes_that_pair_across_lines_never_lose_a_line()
    {
        // Two broken quotes (lines 3 and 5) read as one record spanning lines 3-5: that record is quarantined whole
        // at its first line, the lines around it go to raw, and no line is in neither table.
        _ws.WriteRaw("pair.csv", SmallConfig.Header + "\n1,30,Oslo,1,yes\n2,31,\"Lima,1,no\n3,32,Pune,1,no\n4,33,Li\"ma,1,no\n5,34,Oslo,1,yes\n");
        _ws.Run(new IngestStage());
        Assert.Equal([2L, 6], LinesOf("pair.csv"));
        Assert.Equal([3L], Quarantined("pair.csv").Select(q => q.Line));
        Assert.Equal(1, Count(IngestStage.QuarantineTable, "record LIKE '%3,32,Pune%4,33%'"));
    }

    [Fact]
    public void A_row_with_too_few_fields_gets_one_reason_with_the_right_counts()
    {
        _ws.WriteRaw("short.csv", SmallConfig.Header + "\n1,30,Oslo,1,yes\n2,31\n3,32,Lima,1,no,x,y\n4,33,Lima,1,no\n5,34,Lima,1,no\n");
        _ws.Run(new IngestStage());
        var t = LakeTables.Open(_ws.Load(), IngestStage.QuarantineTable);
        using var db = DuckDb.Open();
        var reasons = db.Query($"SELECT reason FROM {t.Snapshot().ToDuckDbSql()} ORDER BY line", r => r.GetString(0));
        Assert.Equal(["expected 5 fields, found 2", "expected 5 fields, found 7"], reasons);
    }

    [Fact]
    public void An_empty_file_after_a_first_ingest_commits_nothing()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Rows(5));
        _ws.Run(new IngestStage());
        var raw = LakeTables.LatestVersion(_ws.Load(), "raw");
        var quarantine = LakeTables.LatestVersion(_ws.Load(), IngestStage.QuarantineTable);

        _ws.WriteRaw("empty.csv", "");
        _ws.WriteRaw("header-only.csv", SmallConfig.Header + "\n");
        var result = _ws.Run(new IngestStage());

        Assert.True(result.Ran);
        Assert.Equal(raw, LakeTables.LatestVersion(_ws.Load(), "raw"));
        Assert.Equal(quarantine, LakeTables.LatestVersion(_ws.Load(), IngestStage.QuarantineTable));
        Assert.False(_ws.Run(new IngestStage()).Ran);
    }

    [Fact]
    public void A_refused_file_names_the_ways_out_and_quarantine_file_lets_the_next_run_through()
    {
        _ws.WriteRaw("good.csv", SmallConfig.Rows(5));
        _ws.WriteRaw("bad.csv", SmallConfig.Header + "\n100,x,Oslo,1,yes\n101,y,Oslo,1,yes\n\n102,30,Oslo,1,yes\n");
        var ex = Assert.Throws<CtBuildException>(() => _ws.Run(new IngestStage()));
        Assert.Contains("remove it from the raw folder", ex.Message);
        Assert.Contains("ctb ingest --quarantine-file bad.csv", ex.Message);

        var result = _ws.Run(new IngestStage { QuarantineFiles = ["bad.csv"] });

        Assert.Equal(5, Count("raw"));
        Assert.Equal([2L, 3, 5], Quarantined("bad.csv").Select(q => q.Line));
        Assert.Equal(1, Count(IngestStage.QuarantineTable, "line = 5 AND record = '102,30,Oslo,1,yes'"));
        Assert.Equal("3", result.Outputs!.Get("rows.quarantined"));
        _ws.WriteRaw("c.csv", SmallConfig.Rows(2, firstId: 300, seed: 3));
        Assert.True(_ws.Run(new IngestStage()).Ran); // bad.csv counts as ingested now: the plain stage goes on
        Assert.Equal(7, Count("raw"));
    }

    [Fact]
    public void Quarantine_file_names_an_existing_raw_file()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Rows(2));
        var ex = Assert.Throws<ConfigException>(() => _ws.Run(new IngestStage { QuarantineFiles = ["nope.csv"] }));
        Assert.Contains("no raw file named nope.csv", ex.Message);
    }

    [Fact]
    public void A_re_delivered_file_is_warned_about_once()
    {
        _ws.WriteRaw("a.csv", SmallConfig.Rows(4));
        _ws.Run(new IngestStage());
        _ws.WriteRaw("copy-of-a.csv", SmallConfig.Rows(4));
        _ws.WriteRaw("b.csv", SmallConfig.Rows(2, firstId: 100, seed: 2));
        _ws.Run(new IngestStage());
        _ws.WriteRaw("c.csv", SmallConfig.Rows(2, firstId: 200, seed: 3));
        _ws.Run(new IngestStage());
        Assert.Single(_ws.Log.Lines, l => l.Contains("copy-of-a.csv has the same content"));
    }

    [Fact]
    public void A_column_empty_in_every_row_is_warned_about_and_recorded()
    {
        _ws.WriteRaw("nulls.csv", SmallConfig.Header + "\n1,,Oslo,,yes\n2,,Lima,,no\n");
        _ws.Run(new IngestStage());
        Assert.Contains(_ws.Log.Lines, l => l.Contains("nulls.csv: column(s) empty in every row: age, score"));
        var files = LakeTables.Open(_ws.Load(), "raw").History().First().OperationParameters["files"];
        Assert.Contains("\"EmptyColumns\":[\"age\",\"score\"]", files);
        var flagged = IngestStage.EmptyColumnsUpTo(LakeTables.Open(_ws.Load(), "raw"), 0);
        Assert.Equal("nulls.csv", flagged.Single().File);
        Assert.Equal(["age", "score"], flagged.Single().Columns);
    }
}
