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
    // Prepared once per session: planning the contract's CASE expressions and the features SQL costs more than running them on a few rows.
    readonly DuckDBCommand _delete;
    readonly DuckDBCommand _judge;
    readonly Dictionary<string, DuckDBCommand> _features = [];

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
        _delete = Prepare("DELETE FROM records");
        _judge = Prepare("SELECT _idx, _bad_column, _bad_reason FROM judged WHERE _bad_reason IS NOT NULL ORDER BY _idx LIMIT 1");
    }

    DuckDBCommand Prepare(string sql)
    {
        var command = _db.CreateCommand();
        command.CommandText = sql;
        command.Prepare();
        return command;
    }

    /// <summary>Loads <paramref name="records"/> (text values in <see cref="PredictionContract.Columns"/> order) and returns the first violation, if any.</summary>
    public RecordViolation? Load(IReadOnlyList<string?[]> records)
    {
        _delete.ExecuteNonQuery();
        using (var appender = _db.CreateAppender("records"))
        {
            for (var i = 0; i < records.Count; i++)
            {
                var row = appender.CreateRow().AppendValue(i);
                foreach (var value in records[i]) row.AppendValue(value);
                row.EndRow();
            }
        }
        using var reader = _judge.ExecuteReader();
        return reader.Read() ? new RecordViolation(reader.GetInt32(0), reader.GetString(1), reader.GetString(2)) : null;
    }

    /// <summary>The records of a CSV file with a header line (a <c>text/csv</c> request body).</summary>
    public (List<string?[]>? Records, RequestError? Error) ReadCsv(string path) => RequestRecords.FromCsv(_db, path, _contract);

    /// <summary>Checks once that the features SQL gives what <paramref name="model"/> needs.</summary>
    public void CheckSignature(ServedModel model) => _contract.CheckSignature(_db, model);

    /// <summary>The model inputs of the loaded records, in order.</summary>
    public List<ModelInputRow> Features(FeatureSignature signature, int count)
    {
        var sql = _contract.FeaturesQuery(signature);
        if (!_features.TryGetValue(sql, out var command)) _features[sql] = command = Prepare(sql);
        var rows = new List<ModelInputRow>(count);
        using (var reader = command.ExecuteReader())
            while (reader.Read()) rows.Add(ModelInput.ReadFeatures(reader, 0, signature));
        return _contract.Checked(rows, count);
    }

    public void Dispose()
    {
        foreach (var command in _features.Values.Append(_judge).Append(_delete)) command.Dispose();
        _db.Dispose();
    }
}
