using System.Diagnostics;
using CtBuild.Configuration;
using CtBuild.Ingest;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Storage;
using DuckDB.NET.Data;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Serving;

/// <param name="Input">A file (CSV, .csv.gz, Parquet, JSON lines) or a lake table, <c>name[@version]</c>.</param>
/// <param name="Output">A .parquet or .csv file; the rejects go beside it as <c>&lt;name&gt;.rejects.&lt;ext&gt;</c>.</param>
/// <param name="ToLake">Also append the predictions to the lake table <c>predictions</c>.</param>
public sealed record PredictOptions(string Input, string Output, ModelReference Model, bool ToLake = false, int ChunkRows = 50_000);

/// <summary>One reason records were rejected, with how many.</summary>
public sealed record RejectReason(string Column, string Rule, long Rows);

/// <summary>What a batch prediction did. <see cref="InputRows"/> = <see cref="Scored"/> + <see cref="Rejected"/>.</summary>
public sealed record PredictResult(string Model, int Version, string ModelSha256, string Input, string InputSnapshot,
    long InputRows, long Scored, long Rejected, string Output, string RejectsFile, long? PredictionsVersion,
    double Seconds, double RowsPerSecond, long PeakWorkingSetBytes, IReadOnlyList<RejectReason> TopReasons);

/// <summary>
/// <c>ctb predict</c>: scores every record of a file or lake table with a registered model. A file is read and
/// judged by Ingest's <see cref="FileValidation"/> (so a bad record gets the file, line and reason a quarantined
/// one would), the good rows are kept in DuckDB (which spills to disk past its memory limit) and scored a chunk at
/// a time through the features SQL and the model, so memory stays bounded whatever the input's size.
/// </summary>
public static class BatchPredictor
{
    /// <summary>The lake table that <c>--to-lake</c> appends to.</summary>
    public const string PredictionsTable = "predictions";
    const string RawTable = "raw"; // Ingest's table: records already judged by the contract

    public static PredictResult Run(Workspace ws, PredictOptions options, IPipelineLog log)
    {
        var clock = Stopwatch.StartNew();
        var model = ServedModel.Load(ws, options.Model);
        log.Info($"predict: {model} (sha256 {model.Sha256[..12]}… verified)");
        var contract = PredictionContract.From(ws);
        var format = OutputFormat(options.Output);
        var work = Path.Combine(ws.StateDir, "predict", $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using var db = DuckDb.Open(Path.Combine(work, "spill"), memoryLimit: "512MB");
            var input = Load(db, ws, contract, model, options.Input, work);
            contract = input.Contract;
            contract.CreateRawView(db, $"SELECT * EXCLUDE (_source, _line) FROM good WHERE false", input.HasLabel);
            contract.CheckSignature(db, model);

            db.Exec("CREATE TEMP TABLE scored (source VARCHAR, line BIGINT, \"key\" VARCHAR, score DOUBLE, label BOOLEAN, model VARCHAR, model_version INTEGER)");
            var threshold = ws.Config.Evaluate.Threshold;
            var total = input.GoodRows;
            for (long from = 0, chunk = 0; from < total; from += options.ChunkRows, chunk++)
            {
                var range = $"rowid >= {from} AND rowid < {from + options.ChunkRows}";
                contract.CreateRawView(db, $"SELECT * EXCLUDE (_source, _line) FROM good WHERE {range} ORDER BY rowid", input.HasLabel);
                var keyColumn = contract.Key is { } k && input.Columns.Contains(k) ? $"CAST({Ident(k)} AS VARCHAR)" : "NULL";
                var meta = db.Query($"SELECT _source, _line, {keyColumn} FROM good WHERE {range} ORDER BY rowid",
                    r => (Source: r.GetString(0), Line: r.GetInt64(1), Key: r.IsDBNull(2) ? null : r.GetString(2)));
                var scores = model.Score(contract.ReadFeatures(db, model.Signature, meta.Count));
                using (var appender = db.CreateAppender("scored"))
                    for (var i = 0; i < meta.Count; i++)
                        appender.CreateRow().AppendValue(meta[i].Source).AppendValue(meta[i].Line).AppendValue(meta[i].Key)
                            .AppendValue(scores[i]).AppendValue(scores[i] >= threshold).AppendValue(model.Name).AppendValue(model.Version).EndRow();
                var done = Math.Min(total, from + options.ChunkRows);
                var rate = done / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                log.Progress("predict", (int)Math.Min(int.MaxValue, done), (int)Math.Min(int.MaxValue, total),
                    $"{rate:N0} rows/s, ~{TimeSpan.FromSeconds((total - done) / Math.Max(1, rate)):mm\\:ss} left");
            }

            var scored = db.Scalar<long>("SELECT count(*) FROM scored");
            var rejected = db.Scalar<long>("SELECT count(*) FROM rejects");
            if (scored + rejected != input.Rows)
                throw new CtBuildException($"{options.Input}: {input.Rows} records were read but {scored} were scored and {rejected} rejected; nothing was written. This is a bug in CtBuild; please report it.");

            var output = Path.GetFullPath(options.Output);
            var rejectsFile = RejectsPath(output);
            Copy(db, "SELECT * FROM scored ORDER BY rowid", output, format, work);
            Copy(db, "SELECT * FROM rejects ORDER BY line", rejectsFile, format, work);
            long? lakeVersion = null;
            if (options.ToLake)
                lakeVersion = WriteToLake(db, ws, model, input, log);
            var reasons = db.Query("SELECT \"column\", rule, count(*) AS n FROM rejects GROUP BY ALL ORDER BY n DESC, 1 LIMIT 5",
                r => new RejectReason(r.IsDBNull(0) ? "" : r.GetString(0), r.GetString(1), r.GetInt64(2)));
            var seconds = clock.Elapsed.TotalSeconds;
            return new PredictResult(model.Name, model.Version, model.Sha256, options.Input, input.Snapshot, input.Rows, scored, rejected,
                output, rejectsFile, lakeVersion, seconds, input.Rows / Math.Max(1e-9, seconds), Process.GetCurrentProcess().PeakWorkingSet64, reasons);
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The rows to score, as the temp table <c>good</c> (with <c>_source</c> and <c>_line</c>), and the rejected ones as <c>rejects</c>.</summary>
    sealed record LoadedInput(long Rows, long GoodRows, string Snapshot, bool HasLabel, IReadOnlyList<string> Columns, LineageSource? Table,
        PredictionContract Contract);

    static LoadedInput Load(DuckDBConnection db, Workspace ws, PredictionContract contract, ServedModel model, string input, string work)
    {
        db.Exec("CREATE TEMP TABLE rejects (source_file VARCHAR, line BIGINT, \"column\" VARCHAR, rule VARCHAR, reason VARCHAR, record VARCHAR)");
        if (File.Exists(input)) return LoadFile(db, contract, Path.GetFullPath(input), work);

        var at = input.LastIndexOf('@');
        var name = at >= 0 ? input[..at] : input;
        long? version = null;
        if (at >= 0)
            version = long.TryParse(input[(at + 1)..], out var v) ? v
                : throw new CtBuildException($"--input {input}: the table version after '@' must be a number, e.g. features@3.", 2);
        var table = DeltaTable.At(Path.Combine(ws.LakeDir, name));
        if (name.IndexOfAny(['/', '\\']) >= 0 || !table.Exists)
            throw new CtBuildException($"--input {input}: no such file, and no lake table '{name}' in {ws.LakeDir}. Give a CSV, Parquet or JSON-lines file, or a table such as features@3 (`ctb lake tables`).", 2);
        var snapshot = table.Snapshot(version);
        var columns = snapshot.Schema.Select(f => f.Name).ToList();
        var source = $"{name}@{snapshot.Version}";
        bool hasLabel;
        if (name == RawTable)
        {
            // Raw rows passed the contract when they were ingested; they keep their source file and line.
            db.Exec($"CREATE TEMP TABLE good AS SELECT _source_file AS _source, _source_line AS _line, * FROM {snapshot.ToDuckDbSql()} ORDER BY _source_file, _source_line");
            hasLabel = columns.Contains(contract.LabelColumn);
        }
        else
        {
            var missing = model.Signature.MissingFrom(columns);
            if (missing.Count > 0)
                throw new CtBuildException($"--input {source}: the table lacks {model}'s input column(s) {string.Join(", ", missing)}. Score the raw data (a file or raw@N) or a features table.", 2);
            // A table of features (features, splits): the features SQL has already run, so raw is the table itself.
            var order = contract.Key is { } key && columns.Contains(key) ? Ident(key) : "md5(CAST(t AS VARCHAR))";
            db.Exec($"CREATE TEMP TABLE good AS SELECT {Literal(source)} AS _source, row_number() OVER (ORDER BY {order}) AS _line, * FROM {snapshot.ToDuckDbSql()} t ORDER BY {order}");
            contract = contract.AsFeatures();
            hasLabel = true;
        }
        var rows = db.Scalar<long>("SELECT count(*) FROM good");
        return new LoadedInput(rows, rows, source, hasLabel, columns, new LineageSource(name, snapshot.Version), contract);
    }

    static LoadedInput LoadFile(DuckDBConnection db, PredictionContract contract, string path, string work)
    {
        var format = RawFile.FormatOf(path)
            ?? throw new CtBuildException($"--input {path}: not a file predict reads; use .csv, .csv.gz, .parquet, .jsonl or .ndjson.", 2);
        var info = new FileInfo(path);
        var sha = Hashing.Sha256File(path);
        var file = new RawFile(Path.GetFileName(path), path, format, info.Length, sha, info.LastWriteTimeUtc.Ticks);
        var validation = new FileValidation(db, contract.Ingest, DateTimeOffset.UtcNow, work);
        var check = validation.Check(validation.Prepare(file, 0, path));
        db.Exec($"CREATE TEMP TABLE good AS SELECT _source_file::VARCHAR AS _source, _source_line AS _line, * EXCLUDE (_source_file, _source_sha256, _source_line, _ingested_at) FROM ({check.GoodSql}) ORDER BY _line");
        var good = db.Scalar<long>("SELECT count(*) FROM good");
        var result = validation.Finish(check, good);
        db.Exec($"INSERT INTO rejects SELECT source_file, line, \"column\", rule, reason, record FROM {result.BadTable}");
        return new LoadedInput(good + result.BadRows, good, $"{file.Name} sha256:{sha}", false, contract.Columns, null, contract);
    }

    static long WriteToLake(DuckDBConnection db, Workspace ws, ServedModel model, LoadedInput input, IPipelineLog log)
    {
        var table = DeltaTable.At(Path.Combine(ws.LakeDir, PredictionsTable));
        table.CleanUntracked(TimeSpan.FromHours(1));
        var parameters = new Dictionary<string, string>
        {
            ["model"] = model.Name, ["modelVersion"] = model.Version.ToString(), ["modelSha256"] = model.Sha256, ["input"] = input.Snapshot,
        };
        var lineage = new Lineage(input.Table is { } t ? [t] : [], Hashing.Sha256Hex(File.ReadAllText(ws.Resolve(ws.Config.Features.Sql))), ws.ConfigHash);
        var commit = new DeltaWriter(db).Write(table, "SELECT *, current_timestamp AS predicted_at FROM scored", WriteMode.Append, "PREDICT", parameters, lineage);
        log.Info($"predict: {PredictionsTable} v{commit.Version}: {commit.RowsWritten} rows by {model} from {input.Snapshot}");
        return commit.Version;
    }

    static string OutputFormat(string output) =>
        output.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? "parquet"
        : output.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? "csv"
        : throw new CtBuildException($"--output {output}: write a .parquet or a .csv file.", 2);

    /// <summary>predictions.parquet → predictions.rejects.parquet</summary>
    public static string RejectsPath(string output) =>
        Path.Combine(Path.GetDirectoryName(output)!, Path.GetFileNameWithoutExtension(output) + ".rejects" + Path.GetExtension(output));

    // Written beside the target and renamed into place: a reader never sees half a file.
    static void Copy(DuckDBConnection db, string select, string target, string format, string work)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = target + $".{Environment.ProcessId}.tmp";
        db.Exec($"COPY ({select}) TO {Literal(temp)} (FORMAT {format}{(format == "csv" ? ", HEADER true" : "")})");
        File.Move(temp, target, overwrite: true);
    }
}
