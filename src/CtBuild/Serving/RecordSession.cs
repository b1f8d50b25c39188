using System.Text;
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
    readonly string _oneRecord; // the records CTE of one record whose values are the statement's parameters
    readonly string _typedRows;
    readonly Dictionary<string, FeatureStatements> _features = [];
    FeatureSignature? _lastSignature;
    FeatureStatements? _lastFeatures;

    /// <summary>A signature's features query over the loaded records, and over one record given as parameters.</summary>
    sealed record FeatureStatements(DuckDBCommand Loaded, DuckDBCommand One, string OneName);

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
        _typedRows = $"SELECT {string.Join(", ", columns.Select(c => $"{rules.Typed(c)} AS {Ident(c)}"))} FROM records";
        contract.CreateRawView(_db, _typedRows + " ORDER BY _idx");
        _oneRecord = $"SELECT 0 AS _idx, {string.Join(", ", columns.Select((c, i) => $"${i + 1}::VARCHAR AS {Ident(c)}"))}";
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
    public List<ModelInputRow> Features(FeatureSignature signature, int count) => Read(StatementsFor(signature).Loaded, signature, count);

    /// <summary>
    /// The model input of one record that passes the contract, without loading it: one EXECUTE of a statement over the
    /// record's values, where a CTE named <c>records</c> stands for the table and <c>raw</c> is the view's own SQL, so the
    /// features are those of <see cref="Features"/>. Loading a record costs four statements (rollback, begin, insert and
    /// the query), and DuckDB.NET parses and plans each of them again on every call.
    /// </summary>
    public ModelInputRow FeaturesOfOne(string?[] record, FeatureSignature signature)
    {
        // A NUL would end the statement's text early: such a record is loaded instead.
        if (Array.Exists(record, v => v is not null && v.Contains('\0')))
        {
            Append([record]);
            return Features(signature, 1)[0];
        }
        var statements = StatementsFor(signature);
        var execute = new StringBuilder("EXECUTE ").Append(statements.OneName).Append('(');
        for (var i = 0; i < record.Length; i++)
        {
            if (i > 0) execute.Append(", ");
            // A plain NULL is of type NULL, which makes DuckDB plan the statement again; a typed one is a VARCHAR like the rest.
            execute.Append(record[i] is { } value ? Literal(value) : "NULL::VARCHAR");
        }
        statements.One.CommandText = execute.Append(')').ToString();
        return Read(statements.One, signature, 1)[0];
    }

    FeatureStatements StatementsFor(FeatureSignature signature)
    {
        // The served model's signature is one object until a swap: its statements are found without rebuilding the SQL.
        if (ReferenceEquals(signature, _lastSignature)) return _lastFeatures!;
        var sql = _contract.FeaturesQuery(signature);
        if (!_features.TryGetValue(sql, out var statements))
        {
            var n = _features.Count;
            var one = $"WITH records AS ({_oneRecord}), raw AS ({_contract.RawSql(_typedRows)}) {sql}";
            _features[sql] = statements = new FeatureStatements(Prepare($"ctb_features_{n}", sql), Prepare($"ctb_features_one_{n}", one), $"ctb_features_one_{n}");
        }
        (_lastSignature, _lastFeatures) = (signature, statements);
        return statements;
    }

    List<ModelInputRow> Read(DuckDBCommand command, FeatureSignature signature, int count)
    {
        var rows = new List<ModelInputRow>(count);
        using (var reader = command.ExecuteReader())
            while (reader.Read()) rows.Add(ModelInput.ReadFeatures(reader, 0, signature));
        return _contract.Checked(rows, count);
    }

    public void Dispose()
    {
        foreach (var command in _features.Values.SelectMany(f => new[] { f.Loaded, f.One }).Append(_judge).Append(_insertOne).Append(_begin).Append(_rollback))
            command.Dispose();
        _db.Dispose();
    }
}
