using CtBuild.Lake;
using CtBuild.Stages;
using CtBuild.Storage;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Ingest;

/// <summary>
/// Parquet columns that already have their contract type are read as they are (no text round trip); the result must be
/// the text path's: the same rows quarantined with the same reasons and records, and the same good rows.
/// </summary>
public sealed class TypedReadTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig("""
        {
          "name": "typed",
          "ingest": {
            "maxBadFraction": 0.9,
            "label": { "column": "label", "positive": "yes", "values": ["yes", "no"] },
            "columns": {
              "id":     { "type": "int", "nullable": false },
              "age":    { "type": "int", "min": 0, "max": 120, "missingValues": ["-1"] },
              "city":   { "type": "string", "values": ["Oslo", "Lima"] },
              "score":  { "type": "double" },
              "weight": { "type": "double", "min": 0 },
              "member": { "type": "bool", "nullable": false },
              "code":   { "type": "int", "min": 1, "max": 3 },
              "label":  { "type": "string", "nullable": false }
            }
          },
          "features": { "sql": "features/features.sql" },
          "tune": { "space": { "trainer": { "choice": { "FastTree": {} } } } }
        }
        """).WithFeaturesSql("SELECT * FROM raw");

    public void Dispose() => _ws.Dispose();

    // One row per kind of bad input the contract knows, between good rows. age is INTEGER (widened to the contract's
    // BIGINT), score is text in the file (checked through the text path in the same read), the others are typed.
    const string Rows = """
        SELECT * FROM (VALUES
          ( 1,   30, 'Oslo',  '1.5',  2.25, true,  1, 'yes'),  -- good
          (NULL, 31, 'Oslo',  '1.5',  2.25, true,  1, 'no'),   -- missing value in a non-nullable column (typed int)
          ( 3,  130, 'Lima',  '1.5',  2.25, true,  2, 'no'),   -- above the maximum
          ( 4,   -5, 'Lima',  '1.5',  2.25, false, 2, 'no'),   -- below the minimum
          ( 5,   -1, 'Lima',  '0.5',  2.25, false, 3, 'yes'),  -- good: -1 is age's missing marker
          ( 6,   40, 'Paris', '1.5',  2.25, true,  1, 'no'),   -- not an allowed value (string)
          ( 7,   41, 'Oslo',  'abc',  2.25, true,  1, 'no'),   -- not a valid double (a text column)
          ( 8,   42, 'Oslo',  'NA',   NULL, true,  1, 'yes'),  -- good: missing markers, nullable columns
          ( 9,   43, 'Oslo',  '2.5', -0.5,  true,  1, 'no'),   -- below the minimum (typed double)
          (10,   44, 'Oslo',  '2.5',  1e300, NULL, 1, 'no'),   -- missing value in a non-nullable column (typed bool)
          (11,   45, 'Lima',  '2.5',  3.0,  true,  7, 'no'),   -- above the maximum (typed SMALLINT)
          (12,   46, 'Lima',  '2.5',  3.0,  true,  2, 'maybe'),-- label not in the declared values
          (13,   47, 'Lima',  '2.5',  3.0,  true,  2, NULL),   -- label is missing
          (14, NULL, NULL,    NULL,   0.1,  false, NULL, 'no') -- good: nulls where allowed
        ) t(id, age, city, score, weight, member, code, label)
        """;

    static readonly (long Line, string Column, string Rule)[] Expected =
    [
        (2, "id", "missing value in a non-nullable column"), (3, "age", "above the maximum"), (4, "age", "below the minimum"),
        (6, "city", "not an allowed value"), (7, "score", "not a valid double"), (9, "weight", "below the minimum"),
        (10, "member", "missing value in a non-nullable column"), (11, "code", "above the maximum"),
        (12, "label", "label not in the declared values"), (13, "label", "label is missing"),
    ];

    [Fact]
    public void Typed_parquet_columns_quarantine_exactly_what_the_text_path_does_and_keep_the_same_good_rows()
    {
        Directory.CreateDirectory(_ws.RawDir);
        using (var db = DuckDb.Open())
        {
            var typed = $"SELECT id::BIGINT AS id, age::INTEGER AS age, city, score, weight::DOUBLE AS weight, member, code::SMALLINT AS code, label FROM ({Rows})";
            db.Exec($"COPY ({typed}) TO '{Path.Combine(_ws.RawDir, "typed.parquet")}' (FORMAT parquet)");
            db.Exec($"COPY (SELECT COLUMNS(*)::VARCHAR FROM ({typed})) TO '{Path.Combine(_ws.RawDir, "text.parquet")}' (FORMAT parquet)");
            db.Exec($"COPY ({typed}) TO '{Path.Combine(_ws.RawDir, "rows.jsonl")}' (FORMAT json)");
            Assert.Equal("BIGINT INTEGER VARCHAR VARCHAR DOUBLE BOOLEAN SMALLINT VARCHAR",
                string.Join(" ", db.Query($"DESCRIBE SELECT * FROM '{Path.Combine(_ws.RawDir, "typed.parquet")}'", r => r.GetString(1))));
        }

        var result = _ws.Run(new IngestStage());

        Assert.True(result.Ran);
        var typedBad = Quarantine("typed.parquet");
        Assert.Equal(Expected, typedBad.Select(b => (b.Line, b.Column, b.Rule)));
        Assert.Equal(Quarantine("text.parquet"), typedBad); // reasons and records included
        Assert.Equal(Quarantine("rows.jsonl").Select(b => (b.Line, b.Column, b.Rule, b.Reason)), typedBad.Select(b => (b.Line, b.Column, b.Rule, b.Reason)));
        Assert.Contains(typedBad, b => b.Reason == "130 is above the maximum 120" && b.Record.Contains("\"age\":\"130\""));
        Assert.Contains(typedBad, b => b.Reason == "7 is above the maximum 3");

        var typedGood = Good("typed.parquet");
        Assert.Equal([1L, 5, 8, 14], typedGood.Select(g => g.Line));
        Assert.Equal(Good("text.parquet"), typedGood);
        Assert.Equal(Good("rows.jsonl"), typedGood);
        Assert.Contains("5|NULL|Lima|0.5|2.25|false|3|yes", typedGood.Select(g => g.Values)); // age -1 is missing
        Assert.Equal(14, typedGood.Count + typedBad.Count);
        using var check = DuckDb.Open();
        Assert.Equal("BIGINT BIGINT VARCHAR DOUBLE DOUBLE BOOLEAN BIGINT VARCHAR",
            string.Join(" ", check.Query($"DESCRIBE SELECT * EXCLUDE (_source_file, _source_sha256, _source_line, _ingested_at) FROM {Snapshot("raw")}", r => r.GetString(1))));
    }

    [Fact]
    public void Json_lines_keys_read_typed_keep_the_text_paths_values_and_a_numeric_marker_keeps_a_double_on_the_text_path()
    {
        // "score" has a missing marker a number could be, so it is read as text (a typed -999 would read back as "-999.0" and
        // miss the marker); "weight" has none and is read as a DOUBLE; "count" is an int whose marker "-1" reads back the same.
        using var ws = new TempWorkspace().WithConfig("""
            {
              "name": "typed-json",
              "ingest": {
                "label": { "column": "label", "positive": "yes", "values": ["yes", "no"] },
                "columns": {
                  "id":     { "type": "int", "nullable": false },
                  "score":  { "type": "double", "missingValues": ["-999"] },
                  "weight": { "type": "double" },
                  "count":  { "type": "int", "missingValues": ["-1"] },
                  "label":  { "type": "string", "nullable": false }
                }
              },
              "features": { "sql": "features/features.sql" },
              "tune": { "space": { "trainer": { "choice": { "FastTree": {} } } } }
            }
            """).WithFeaturesSql("SELECT * FROM raw");
        string[] numbers = ["-999", "0.1", "0.30000000000000004", "1e-320", "2.2250738585072011e-308", "1.7976931348623157e308", "123456789012345678", "-0.0", "5"];
        ws.WriteRaw("rows.jsonl", string.Concat(numbers.Select((n, i) => $"{{\"id\": {i + 1}, \"score\": {n}, \"weight\": {n}, \"count\": {(i % 2 == 0 ? -1 : i)}, \"label\": \"yes\"}}\n")));
        ws.WriteRaw("rows.csv", "id,score,weight,count,label\n" + string.Concat(numbers.Select((n, i) => $"{i + 1},{n},{n},{(i % 2 == 0 ? -1 : i)},yes\n")));

        Assert.True(ws.Run(new IngestStage()).Ran);

        using var db = DuckDb.Open();
        List<string> Good(string file) => db.Query($"""
            SELECT concat_ws('|', id, coalesce(score::VARCHAR, 'NULL'), coalesce(weight::VARCHAR, 'NULL'), coalesce(count::VARCHAR, 'NULL'))
            FROM {LakeTables.Open(ws.Load(), "raw").Snapshot().ToDuckDbSql()} WHERE _source_file = '{file}' ORDER BY id
            """, r => r.GetString(0));
        var json = Good("rows.jsonl");
        Assert.Equal(Good("rows.csv"), json);
        Assert.Equal("1|NULL|-999.0|NULL", json[0]); // the marker: missing in score, a value in weight; count's -1 is missing
        Assert.Equal(numbers.Skip(1).Select(n => double.Parse(n, System.Globalization.CultureInfo.InvariantCulture)),
            db.Query($"SELECT weight FROM {LakeTables.Open(ws.Load(), "raw").Snapshot().ToDuckDbSql()} WHERE _source_file = 'rows.jsonl' AND id > 1 ORDER BY id", r => r.GetDouble(0)));
    }

    string Snapshot(string table) => LakeTables.Open(_ws.Load(), table).Snapshot().ToDuckDbSql();

    List<(long Line, string Column, string Rule, string Reason, string Record)> Quarantine(string file)
    {
        using var db = DuckDb.Open();
        return db.Query($"SELECT line, \"column\", rule, reason, record FROM {Snapshot(IngestStage.QuarantineTable)} WHERE source_file = '{file}' ORDER BY line",
            r => (Convert.ToInt64(r.GetValue(0)), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4)));
    }

    List<(long Line, string Values)> Good(string file)
    {
        using var db = DuckDb.Open();
        return db.Query($"""
            SELECT _source_line, concat_ws('|', coalesce(id::VARCHAR, 'NULL'), coalesce(age::VARCHAR, 'NULL'), coalesce(city, 'NULL'),
                   coalesce(score::VARCHAR, 'NULL'), coalesce(weight::VARCHAR, 'NULL'), coalesce(member::VARCHAR, 'NULL'),
                   coalesce(code::VARCHAR, 'NULL'), label)
            FROM {Snapshot("raw")} WHERE _source_file = '{file}' ORDER BY _source_line
            """, r => (Convert.ToInt64(r.GetValue(0)), r.GetString(1)));
    }
}
