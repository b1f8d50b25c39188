using CtBuild.Serving;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Serving;

public sealed class ContractPrecheckTests : IDisposable
{
    // Every rule kind a served contract knows: non-nullable, int/double/bool types, min, max, allowed values, missing-value
    // markers (shared and per column). The label's rules do not apply: records to score have none.
    const string Config = """
        {
          "name": "rules",
          "ingest": {
            "missingValues": ["", "NA", "?"],
            "label": { "column": "label", "positive": "yes", "values": ["yes", "no"] },
            "columns": {
              "id":     { "type": "int", "nullable": false, "min": 1 },
              "age":    { "type": "int", "min": 0, "max": 120, "missingValues": ["unknown"] },
              "ratio":  { "type": "double", "min": -1.5, "max": 99.5 },
              "member": { "type": "bool" },
              "city":   { "type": "string", "values": ["Oslo", "Lima", "Pune"] },
              "note":   { "type": "string", "nullable": false },
              "label":  { "type": "string", "nullable": false }
            }
          },
          "features": { "sql": "features/features.sql" },
          "split": {},
          "tune": { "space": { "trainer": { "choice": { "LbfgsLogisticRegression": {} } } } },
          "evaluate": { "minAuc": 0.5 }
        }
        """;

    static readonly Dictionary<string, string?> Good = new()
    {
        ["id"] = "7", ["age"] = "39", ["ratio"] = "0.25", ["member"] = "true", ["city"] = "Oslo", ["note"] = "x", ["label"] = "yes",
    };

    // Plain values (the fast path must take them) and values only DuckDB may judge: whitespace, markers, signs,
    // exponents, leading zeros, long numbers, bounds, other boolean spellings, case, non-ASCII, over-long text.
    static readonly string?[] Values =
    [
        null, "", " ", "NA", " NA", "?", "unknown", "Unknown", "0", "1", "-1", "7", "007", "+7", "-0", "39", "120", "121", "119.5",
        "0.25", "-1.5", "-1.6", "99.5", "99.50001", "1e2", "1E2", ".5", "5.", "1,5", "NaN", "inf", "-inf", "123456789012345",
        "1234567890123456", "99999999999999999999", "true", "false", "TRUE", "t", "f", "1.0", "yes", "no", "Yes", "Oslo", "oslo",
        "Oslo ", " Oslo", "\tOslo", "Lima", "Pune", "Bergen", "Zürich", "x", "\u00a0x", "x\u200b", new string('a', 60), "50%", "it's",
    ];

    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(Config).WithFeaturesSql("SELECT id, age, ratio, member, city, note, label = 'yes' AS label FROM raw");

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void Gives_the_same_verdict_and_message_as_the_contract_s_SQL_for_every_rule_kind_and_value()
    {
        var contract = PredictionContract.From(_ws.Load());
        var columns = contract.Columns;
        using var session = new RecordSession(contract);
        var precheck = new ContractPrecheck(contract.Ingest);
        var fast = new List<string>();
        var violations = 0;
        foreach (var column in columns)
            foreach (var value in Values)
            {
                // The changed record second, so the index of the record is checked too.
                var records = new List<string?[]> { GoodRecord(columns), columns.Select(c => c == column ? value : Good[c]).ToArray() };
                var inDuckDb = session.LoadAndJudgeInDuckDb(records);
                var served = session.Load(records);
                Assert.True(inDuckDb == served, $"{column} = {Show(value)}: DuckDB says {inDuckDb?.ToString() ?? "good"}, served {served?.ToString() ?? "good"}");
                if (inDuckDb is not null) violations++;
                if (precheck.SurelyPass(records))
                {
                    Assert.Null(inDuckDb);
                    fast.Add($"{column}={Show(value)}");
                }
            }
        Assert.True(violations > 50, $"only {violations} cases broke a rule");
        // The plain values (digits, decimals, true/false, allowed strings, markers and NULL where allowed) take the fast path.
        foreach (var expected in new[] { "id='7'", "id='123456789012345'", "age=NULL", "age='unknown'", "age='120'", "ratio='-1.5'", "ratio='99.5'",
                     "member='false'", "member='NA'", "city='Pune'", "city=''", "note='it's'", "note='50%'" })
            Assert.Contains(expected, fast);
    }

    static string?[] GoodRecord(IReadOnlyList<string> columns) => columns.Select(c => Good[c]).ToArray();

    static string Show(string? value) => value is null ? "NULL" : $"'{value}'";
}
