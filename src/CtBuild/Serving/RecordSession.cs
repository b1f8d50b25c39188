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
    readonly ContractPrecheck _precheck;
    // Prepared once per session with SQL PREPARE (DuckDB.NET's DbCommand.Prepare does nothing: every ExecuteReader parses
    // and plans again): planning the contract's CASE expressions and the features SQL costs far more than running them on a
    // few rows. A statement is EXECUTEd by name; the temp table's rows change, its definition does not, so no re-planning.
    // A plan must not depend on the rows there when it was made: statistics propagation folds the CASE conditions with the
    // table's statistics at PREPARE time (an empty table made every later verdict wrong), so it is off in a session.
    readonly DuckDBCommand _begin;
    readonly DuckDBCommand _rollback;
    readonly DuckDBCommand _judge;
    readonly DuckDBCommand _insertOne;
    readonly Dictionary<string, DuckDBCommand> _features = [];
    FeatureSignature? _lastSignature;
    DuckDBCommand? _lastFeatures;

    public RecordSession(PredictionContract contract)
    {
        _contract = contract;
        _precheck = new ContractPrecheck(contract.Ingest);
        _db = DuckDb.Open(memoryLimit: "256MB");
        _db.Exec("SET threads = 1"); // one request per session; the server's concurrency comes from the pool
        _db.Exec("SET disabled_optimizers = 'statistics_propagation,compressed_materialization'"); // see Prepare
        var columns = contract.Columns;
        _db.Exec($"CREATE TEMP TABLE records (_idx INTEGER, {string.Join(", ", columns.Select(c => $"{Ident(c)} VARCHAR"))})");
        var rules = new ContractColumns(contract.Ingest);
        var (column, _, reason) = rules.FirstViolation();
        _db.Exec($"CREATE TEMP VIEW judged AS SELECT _idx, {column} AS _bad_column, {reason} AS _bad_reason FROM records");
        contract.CreateRawView(_db, $"SELECT {string.Join(", ", columns.Select(c => $"{rules.Typed(c)} AS {Ident(c)}"))} FROM records ORDER BY _idx");
        _begin = Command("BEGIN TRANSACTION");
        _rollback = Command("ROLLBACK");
        _begin.ExecuteNonQuery();
        // A single record goes in by a parameterised INSERT: creating an appender per request cost more than the insert.
        _insertOne = Command($"INSERT INTO records VALUES ({string.Join(", ", Enumerable.Repeat("?", columns.Count + 1))})");
        for (var i = 0; i <= columns.Count; i++) _insertOne.Parameters.Add(new DuckDBParameter());
        _judge = Prepare("ctb_judge", "SELECT _idx, _bad_column, _bad_reason FROM judged WHERE _bad_reason IS NOT NULL ORDER BY _idx LIMIT 1");
    }

    DuckDBCommand Prepare(string name, string sql)
    {
        _db.Exec($"PREPARE {name} AS {sql}");
        return Command($"EXECUTE {name}");
    }

    DuckDBCommand Command(string sql)
    {
        var command = _db.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    /// <summary>
    /// Loads <paramref name="records"/> (text values in <see cref="PredictionContract.Columns"/> order) and returns the first
    /// violation, if any. Records that <see cref="ContractPrecheck"/> finds surely good are not judged again in DuckDB.
    /// </summary>
    public RecordViolation? Load(IReadOnlyList<string?[]> records)
    {
        Append(records);
        return SurelyPass(records) ? null : Judge();
    }

    /// <summary>True when <see cref="ContractPrecheck"/> finds every record surely good (no DuckDB judging needed).</summary>
    public bool SurelyPass(IReadOnlyList<string?[]> records) => _precheck.SurelyPass(records);

    /// <summary>Loads the records and judges them in DuckDB only (what <see cref="Load"/> falls back to).</summary>
    public RecordViolation? LoadAndJudgeInDuckDb(IReadOnlyList<string?[]> records)
    {
        Append(records);
        return Judge();
    }

    /// <summary>
    /// Loads records known to pass the contract (<see cref="ContractPrecheck"/>). They live in a transaction that the next
    /// load rolls back: committing them and deleting them after cost more CPU than anything else a single record needs.
    /// </summary>
    public void Append(IReadOnlyList<string?[]> records)
    {
        _rollback.ExecuteNonQuery();
        _begin.ExecuteNonQuery();
        if (records.Count == 1)
        {
            _insertOne.Parameters[0].Value = 0;
            for (var c = 0; c < records[0].Length; c++) _insertOne.Parameters[c + 1].Value = (object?)records[0][c] ?? DBNull.Value;
            _insertOne.ExecuteNonQuery();
            return;
        }
        using (var appender = _db.CreateAppender("records"))
        {
            for (var i = 0; i < records.Count; i++)
            {
                var row = appender.CreateRow().AppendValue(i);
                foreach (var value in records[i]) row.AppendValue(value);
                row.EndRow();
            }
        }
    }

    RecordViolation? Judge()
    {
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
        // The served model's signature is one object until a swap: its statement is found without rebuilding the SQL.
        if (!ReferenceEquals(signature, _lastSignature))
        {
            var sql = _contract.FeaturesQuery(signature);
            if (!_features.TryGetValue(sql, out var prepared)) _features[sql] = prepared = Prepare($"ctb_features_{_features.Count}", sql);
            (_lastSignature, _lastFeatures) = (signature, prepared);
        }
        var command = _lastFeatures!;
        var rows = new List<ModelInputRow>(count);
        using (var reader = command.ExecuteReader())
            while (reader.Read()) rows.Add(ModelInput.ReadFeatures(reader, 0, signature));
        return _contract.Checked(rows, count);
    }

    public void Dispose()
    {
        foreach (var command in _features.Values.Append(_judge).Append(_insertOne).Append(_begin).Append(_rollback)) command.Dispose();
        _db.Dispose();
    }
}
