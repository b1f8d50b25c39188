using CtBuild.Serving;
using CtBuild.Tests.Support;
using CtBuild.Training;

namespace CtBuild.Tests.Serving;

public sealed class RecordSessionTests : IDisposable
{
    const string Config = """
        {
          "name": "one-record",
          "ingest": {
            "missingValues": ["", "NA", "?"],
            "label": { "column": "label", "positive": "yes", "values": ["yes", "no"] },
            "columns": {
              "id":     { "type": "int" },
              "age":    { "type": "int", "missingValues": ["unknown"] },
              "ratio":  { "type": "double" },
              "member": { "type": "bool" },
              "city":   { "type": "string" },
              "label":  { "type": "string", "nullable": false }
            }
          },
          "features": { "sql": "features/features.sql" },
          "split": {},
          "tune": { "space": { "trainer": { "choice": { "LbfgsLogisticRegression": {} } } } },
          "evaluate": { "minAuc": 0.5 }
        }
        """;

    // Text a statement's literal must carry exactly: quotes, SQL, backslashes, a NUL, non-ASCII, markers, numbers
    // that only TRY_CAST can read, and NULL.
    static readonly string?[] Values =
    [
        null, "", "NA", "?", "unknown", "0", "-7", "39", "1e2", " 12 ", "0.25", "-1.5", "NaN", "true", "false", "TRUE", "x", "it's", "''",
        "'); DROP TABLE records; --", "a\\b", "a\0b", "Zürich", "日本", "\u00a0x", new string('a', 300), "NULL", "$1",
    ];

    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(Config).WithFeaturesSql(
        "SELECT id, age, ratio * 2 AS ratio2, member, city, length(city) AS city_length, label = 'yes' AS label FROM raw");

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void One_record_s_features_equal_those_of_the_same_record_loaded_into_the_session()
    {
        var contract = PredictionContract.From(_ws.Load());
        var signature = FeatureSignature.FromColumns(
            [("id", "numeric"), ("age", "numeric"), ("ratio2", "numeric"), ("city_length", "numeric"), ("member", "categorical"), ("city", "categorical")], "label");
        using var session = new RecordSession(contract);
        var columns = contract.Columns;
        var compared = 0;
        foreach (var column in columns)
            foreach (var value in Values)
            {
                var record = columns.Select(c => c == column ? value : Plain(c)).ToArray();
                session.Append([record]);
                var loaded = session.Features(signature, 1)[0];
                var alone = session.FeaturesOfOne(record, signature);
                var what = $"{column} = {(value is null ? "NULL" : $"'{value}'")}";
                Assert.True(loaded.Numeric.SequenceEqual(alone.Numeric), $"{what}: numeric {string.Join(", ", loaded.Numeric)} loaded, {string.Join(", ", alone.Numeric)} alone");
                Assert.True(loaded.Categorical.SequenceEqual(alone.Categorical), $"{what}: categorical {string.Join(", ", loaded.Categorical)} loaded, {string.Join(", ", alone.Categorical)} alone");
                compared++;
            }
        Assert.Equal(columns.Count * Values.Length, compared);
    }

    [Fact]
    public void One_record_that_the_features_SQL_drops_fails_as_it_does_loaded()
    {
        _ws.WithFeaturesSql("SELECT id, label = 'yes' AS label FROM raw WHERE id < 10");
        var contract = PredictionContract.From(_ws.Load());
        var signature = FeatureSignature.FromColumns([("id", "numeric")], "label");
        using var session = new RecordSession(contract);
        var record = contract.Columns.Select(c => c == "id" ? "12" : Plain(c)).ToArray();
        var alone = Assert.Throws<CtBuildException>(() => session.FeaturesOfOne(record, signature));
        session.Append([record]);
        var loaded = Assert.Throws<CtBuildException>(() => session.Features(signature, 1));
        Assert.Equal(loaded.Message, alone.Message);
        Assert.Equal(new[] { 7f }, session.FeaturesOfOne(contract.Columns.Select(c => c == "id" ? "7" : Plain(c)).ToArray(), signature).Numeric);
    }

    static string Plain(string column) => column switch { "id" => "7", "age" => "39", "ratio" => "0.5", "member" => "true", _ => "Oslo" };
}
