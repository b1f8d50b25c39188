using CtBuild.Ingest;
using CtBuild.Storage;
using CtBuild.Training;
using DuckDB.NET.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Serving;

/// <summary>The first rule a record breaks: its index in the request (from 0), the field and the reason.</summary>
public sealed record RecordViolation(int Record, string Field, string Reason);

/// <summary>
/// One DuckDB connection that judges records against the contract (Ingest's <see cref="ContractColumns"/> rules)
/// and computes their features. Not thread-safe: the server keeps a pool, one session per request in flight.
/// </summary>
public sealed class RecordSession : IDisposable
{
    readonly DuckDBConnection _db;
    readonly PredictionContract _contract;

    public RecordSession(PredictionContract contract)
    {
        _contract = contract;
        _db = DuckDb.Open(memoryLimit: "256MB");
        _db.Exec("SET threads = 1"); // one request per session; the server's concurrency comes from the pool
        var columns = contract.Columns;
        _db.Exec($"CREATE TEMP TABLE records (_idx INTEGER, {string.Join(", ", columns.Select(c => $"{Ident(c)} VARCHAR"))})");
        var rules = new ContractColumns(contract.Ingest);
        var (column, _, reason) = rules.FirstViolation();
        _db.Exec($"CREATE TEMP VIEW judged AS SELECT _idx, {column} AS _bad_column, {reason} AS _bad_reason FROM records");
        contract.CreateRawView(_db, $"SELECT {string.Join(", ", columns.Select(c => $"{rules.Typed(c)} AS {Ident(c)}"))} FROM records ORDER BY _idx");
    }

    /// <summary>Loads <paramref name="records"/> (text values in <see cref="PredictionContract.Columns"/> order) and returns the first violation, if any.</summary>
    public RecordViolation? Load(IReadOnlyList<string?[]> records)
    {
        _db.Exec("DELETE FROM records");
        using (var appender = _db.CreateAppender("records"))
        {
            for (var i = 0; i < records.Count; i++)
            {
                var row = appender.CreateRow().AppendValue(i);
                foreach (var value in records[i]) row.AppendValue(value);
                row.EndRow();
            }
        }
        var bad = _db.Query("SELECT _idx, _bad_column, _bad_reason FROM judged WHERE _bad_reason IS NOT NULL ORDER BY _idx LIMIT 1",
            r => new RecordViolation(r.GetInt32(0), r.GetString(1), r.GetString(2)));
        return bad.Count > 0 ? bad[0] : null;
    }

    /// <summary>The records of a CSV file with a header line (a <c>text/csv</c> request body).</summary>
    public (List<string?[]>? Records, RequestError? Error) ReadCsv(string path) => RequestRecords.FromCsv(_db, path, _contract);

    /// <summary>Checks once that the features SQL gives what <paramref name="model"/> needs.</summary>
    public void CheckSignature(ServedModel model) => _contract.CheckSignature(_db, model);

    /// <summary>The model inputs of the loaded records, in order.</summary>
    public List<ModelInputRow> Features(FeatureSignature signature, int count) => _contract.ReadFeatures(_db, signature, count);

    public void Dispose() => _db.Dispose();
}
