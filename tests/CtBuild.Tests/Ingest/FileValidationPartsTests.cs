using System.Text;
using CtBuild.Ingest;
using CtBuild.Storage;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Ingest;

/// <summary>
/// A large CSV file is numbered in parts and DuckDB reads the parts as one list, a large JSON-lines file in parts into one
/// copy; the good rows, their lines and the quarantine (line, column, rule, reason, record) must be those of the same file
/// numbered in one part.
/// </summary>
public sealed class FileValidationPartsTests : IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig("""
        {
          "name": "parts",
          "ingest": {
            "maxBadFraction": 0.9,
            "label": { "column": "label", "positive": "yes", "values": ["yes", "no"] },
            "columns": {
              "id":    { "type": "int", "nullable": false },
              "age":   { "type": "int", "min": 0 },
              "city":  { "type": "string" },
              "label": { "type": "string", "nullable": false }
            }
          },
          "features": { "sql": "features/features.sql" },
          "tune": { "space": { "trainer": { "choice": { "FastTree": {} } } } }
        }
        """).WithFeaturesSql("SELECT * FROM raw");

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void A_csv_file_read_in_parts_gives_the_good_rows_and_quarantine_of_one_part()
    {
        const string name = "d.csv";
        var random = new Random(11);
        var s = new StringBuilder("id,age,city,label\n");
        for (var i = 0; i < 3000; i++)
            s.Append(random.Next(20) switch
            {
                0 => $"{i},-4,Oslo,no\n",          // below the minimum
                1 => $"{i},x,Oslo,no\n",           // not an int
                2 => $"{i},3,Oslo\n",              // a field short
                3 => "\n",
                4 => $"{i},5,\"Li\nma\",yes\n",    // a quoted newline
                _ => $"{i},{i % 90},Lima,yes\n",
            });
        var (whole, wholeBad) = InOneAndThreeParts(name, s.ToString());

        Assert.All(wholeBad, b => Assert.DoesNotContain('\n', b)); // a rejected record as DuckDB shows it may start with a newline
        Assert.Contains(wholeBad, b => b.Contains("not a valid int", StringComparison.Ordinal));
    }

    [Fact]
    public void A_json_lines_file_read_in_parts_gives_the_good_rows_and_quarantine_of_one_part()
    {
        const string name = "d.jsonl";
        var random = new Random(12);
        var s = new StringBuilder();
        for (var i = 0; i < 3000; i++)
            s.Append(random.Next(20) switch
            {
                0 => $"{{\"id\": {i}, \"age\": -4, \"city\": \"Oslo\", \"label\": \"no\"}}\n", // below the minimum (age read typed)
                1 => $"{{\"id\": {i}, \"age\": 3, \"city\": {{\"x\": [1]}}, \"label\": \"no\"}}\n", // an object where text goes: its JSON
                2 => "not json\n",
                3 => "\n",
                4 => $"{{\"id\": {i}, \"age\": 5, \"city\": \"Lima\"}}\r\n",      // the label missing
                5 => "   \n",                                                            // white space is not an object
                _ => $"{{\"id\":{i},\"age\":{i % 90},\"city\":\"Lima\",\"label\":\"yes\"}}\n",
            });
        var (whole, wholeBad) = InOneAndThreeParts(name, s.ToString());

        Assert.Contains(wholeBad, b => b.Contains("age below the minimum -4 is below the minimum 0", StringComparison.Ordinal));
        Assert.Contains(wholeBad, b => b.Contains("not a JSON object", StringComparison.Ordinal));
        Assert.Contains(wholeBad, b => b.Contains("label is missing", StringComparison.Ordinal));
        Assert.Contains(whole, g => g.EndsWith(":3:{\"x\":[1]}", StringComparison.Ordinal));
    }

    /// <summary>The good rows and quarantine of the file validated in one part, checked to be those of three parts.</summary>
    (List<string> Good, List<string> Bad) InOneAndThreeParts(string name, string text)
    {
        var path = _ws.WriteRaw(name, text);
        var file = new RawFile(name, path, RawFile.FormatOf(name)!.Value, new FileInfo(path).Length, Hashing.Sha256File(path), 0);
        var (whole, wholeBad) = Validate(file, parts: 1);
        var (split, splitBad) = Validate(file, parts: 3);
        Assert.Equal(whole, split);
        Assert.Equal(wholeBad, splitBad);
        return (whole, wholeBad);
    }

    (List<string> Good, List<string> Bad) Validate(RawFile file, int parts)
    {
        using var db = DuckDb.Open();
        var validation = new FileValidation(db, _ws.Load().Config.Ingest, DateTimeOffset.UnixEpoch, Path.Combine(_ws.Root, $"work-{parts}")) { Parts = parts };
        var prepared = validation.Prepare(file, 0, file.FullPath);
        Assert.Equal(file.Format == RawFormat.JsonLines ? parts + 1 : parts, prepared.Numbered!.Files.Count); // JSON: a file of lines that are not objects per part
        var check = validation.Check(prepared);
        db.Exec($"CREATE TABLE good AS {check.GoodSql}");
        var result = validation.Finish(check, db.Scalar<long>("SELECT count(*) FROM good"));
        var good = db.Query("SELECT _source_line || ':' || id || ':' || coalesce(age::VARCHAR, '') || ':' || coalesce(city, '') FROM good ORDER BY _source_line", r => r.GetString(0));
        var bad = db.Query($"SELECT 'line ' || line || ': ' || coalesce(\"column\", '') || ' ' || rule || ' ' || reason || ' ' || coalesce(record, '') FROM {result.BadTable} ORDER BY line", r => r.GetString(0));
        Assert.Equal(result.GoodRows + result.BadRows, check.ExpectedRows);
        return (good, bad);
    }
}
