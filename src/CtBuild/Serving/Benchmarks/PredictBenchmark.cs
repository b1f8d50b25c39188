using System.Diagnostics;
using System.Globalization;
using CtBuild.Configuration;
using CtBuild.Lake;
using CtBuild.Pipeline;
using CtBuild.Storage;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Serving.Benchmarks;

/// <param name="DuckDbReadSeconds">Baseline: DuckDB alone parsing every field of the same CSV (the floor of any reader).</param>
public sealed record PredictBenchmarkResult(string Model, int Version, long Rows, long FileBytes, string LoadAverageBefore, string LoadAverageAfter,
    double DuckDbReadSeconds, PredictResult Predict)
{
    public string Format()
    {
        var c = CultureInfo.InvariantCulture;
        return string.Join(Environment.NewLine,
            $"Batch prediction benchmark: {Model} v{Version}, {Rows.ToString("N0", c)} generated rows ({FileBytes / (1 << 20):N0} MiB CSV), " +
            $"{Environment.ProcessorCount} cores, load average {LoadAverageBefore} before, {LoadAverageAfter} after",
            "",
            string.Format(c, "{0,-52} {1,10} {2,14}", "what", "seconds", "rows/s"),
            new string('-', 78),
            string.Format(c, "{0,-52} {1,10:0.0} {2,14:N0}", "DuckDB reads and parses the CSV (baseline)", DuckDbReadSeconds, Rows / DuckDbReadSeconds),
            string.Format(c, "{0,-52} {1,10:0.0} {2,14:N0}", "ctb predict (contract, features SQL, model, output)", Predict.Seconds, Predict.RowsPerSecond),
            "",
            string.Format(c, "scored {0:N0}, rejected {1:N0}; peak working set of the process {2:N0} MiB; ctb predict takes {3:0.0}x the read alone",
                Predict.Scored, Predict.Rejected, Predict.PeakWorkingSetBytes / (1 << 20), Predict.Seconds / DuckDbReadSeconds));
    }
}

/// <summary>
/// <c>ctb bench predict</c>: writes a CSV of <c>rows</c> records made from the raw table's rows (new keys, no label),
/// then times DuckDB's own read of it and <c>ctb predict</c> on it with the champion, in this process. Run it in a
/// fresh process: the peak working set it reports is the process's.
/// </summary>
public static class PredictBenchmark
{
    public static PredictBenchmarkResult Run(Workspace ws, long rows, string dir, IPipelineLog log)
    {
        var before = ServeBenchmark.LoadAverage();
        var contract = PredictionContract.From(ws);
        var input = Path.Combine(dir, "to-score.csv");
        Generate(ws, contract, rows, input, log);

        var clock = Stopwatch.StartNew();
        using (var db = DuckDb.Open(memoryLimit: "256MB"))
            db.Scalar<long>($"SELECT count(*) FROM (SELECT * FROM read_csv({Literal(input)}, header = true, all_varchar = true))");
        var read = clock.Elapsed.TotalSeconds;
        log.Info($"bench predict: DuckDB read {rows:N0} rows in {read:0.0} s");

        var result = BatchPredictor.Run(ws, new PredictOptions(input, Path.Combine(dir, "predictions.parquet"), ModelReference.Parse(null, ws.Config.Name)), log);
        return new PredictBenchmarkResult(result.Model, result.Version, rows, new FileInfo(input).Length, before, ServeBenchmark.LoadAverage(), read, result);
    }

    static void Generate(Workspace ws, PredictionContract contract, long rows, string path, IPipelineLog log)
    {
        var raw = DeltaTable.At(Path.Combine(ws.LakeDir, "raw"));
        if (!raw.Exists) throw new CtBuildException($"bench predict needs the raw table in {ws.LakeDir}: run the pipeline first (`ctb run`).");
        var snapshot = raw.Snapshot();
        var repeats = (long)Math.Ceiling((double)rows / Math.Max(1, snapshot.RowCount));
        var columns = contract.Columns.Select(c => c == contract.Key ? $"row_number() OVER () AS {Ident(c)}" : Ident(c));
        using var db = DuckDb.Open(Path.Combine(Path.GetDirectoryName(path)!, "spill"), memoryLimit: "256MB");
        db.Exec($"COPY (SELECT {string.Join(", ", columns)} FROM {snapshot.ToDuckDbSql()} r, range({repeats}) LIMIT {rows}) TO {Literal(path)} (FORMAT csv, HEADER true)");
        log.Info($"bench predict: wrote {rows:N0} rows to {path}");
    }
}
