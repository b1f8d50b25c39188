using System.Diagnostics;
using System.Globalization;
using System.Text;
using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Storage;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Ingest.Benchmarks;

/// <summary>Figures of one ingest benchmark run; the times of (a) and (b) are medians of interleaved repeats.</summary>
public sealed record IngestBenchmarkResult(
    long Rows, int Columns, long CsvBytes,
    IReadOnlyList<double> DuckDbCopyRuns, IReadOnlyList<double> IngestRuns, double IngestWithBadRowsSeconds, long BadRows,
    long PeakWorkingSetBytes, int NoOpFiles, long NoOpBytes, double NoOpFirstIngestSeconds, double NoOpSeconds)
{
    public double DuckDbCopySeconds => Median(DuckDbCopyRuns);
    public double IngestSeconds => Median(IngestRuns);
    public double Ratio => IngestSeconds / DuckDbCopySeconds;

    static double Median(IReadOnlyList<double> xs)
    {
        var sorted = xs.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public string Format()
    {
        static string Runs(IReadOnlyList<double> xs) => xs.Count < 2 ? "" : "   runs: " + string.Join(", ", xs.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)));
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"CSV: {Rows:N0} rows x {Columns} columns, {CsvBytes / 1e6:0} MB; medians of {IngestRuns.Count} interleaved run(s)");
        s.AppendLine(CultureInfo.InvariantCulture, $"  (a) DuckDB alone, CSV -> Parquet      {DuckDbCopySeconds,8:0.00} s{Runs(DuckDbCopyRuns)}");
        s.AppendLine(CultureInfo.InvariantCulture, $"  (b) CtBuild Ingest into the lake      {IngestSeconds,8:0.00} s{Runs(IngestRuns)}");
        s.AppendLine(CultureInfo.InvariantCulture, $"      (hash, capture, numbered copy, contract, Delta commit)");
        s.AppendLine(CultureInfo.InvariantCulture, $"  ratio (b)/(a)                         {Ratio,8:0.00}    goal <= 1.5");
        s.AppendLine(CultureInfo.InvariantCulture, $"  peak working set of this process      {PeakWorkingSetBytes / 1048576.0,8:0} MiB goal < 2048");
        if (BadRows > 0)
            s.AppendLine(CultureInfo.InvariantCulture, $"  (b) with {BadRows:N0} rows breaking a rule {IngestWithBadRowsSeconds,6:0.00} s   (a second read finds them; {IngestWithBadRowsSeconds / DuckDbCopySeconds:0.00} x (a))");
        if (NoOpFiles > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"No-op ingest: {NoOpFiles} files, {NoOpBytes / 1e9:0.00} GB (first ingest took {NoOpFirstIngestSeconds:0.0} s)");
            s.AppendLine(CultureInfo.InvariantCulture, $"  no-op ingest (nothing new)            {NoOpSeconds,8:0.000} s   goal < 1");
        }
        return s.ToString();
    }
}

/// <summary>
/// Times DuckDB's own CSV-to-Parquet copy against CtBuild's Ingest of the same generated file (20 mixed
/// columns), interleaved so a busy moment of the machine hits both; then the same Ingest of a copy
/// where some rows break the contract; then a no-op Ingest over a folder of many files, which must not
/// re-read them.
/// </summary>
public static class IngestBenchmark
{
    const int IntColumns = 7, DoubleColumns = 6, StringColumns = 6; // + label = 20

    public static IngestBenchmarkResult Run(long rows, int noOpFiles, long noOpMegabytes, string workDir, IPipelineLog log, int repeats = 3)
    {
        Directory.CreateDirectory(workDir);
        var csv = Path.Combine(workDir, "bench.csv");
        log.Info($"generating {rows:N0} rows ...");
        using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
            db.Exec($"COPY ({GeneratorSql(rows, 0)}) TO {Literal(csv)} (HEADER, DELIMITER ',')");
        var csvBytes = new FileInfo(csv).Length;

        var duck = new List<double>();
        var ingest = new List<double>();
        for (var run = 1; run <= repeats; run++)
        {
            log.Info($"(a) DuckDB CSV -> Parquet, run {run}/{repeats} ...");
            var clock = Stopwatch.StartNew();
            using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
                db.Exec($"COPY (SELECT * FROM read_csv({Literal(csv)})) TO {Literal(Path.Combine(workDir, "duckdb.parquet"))} (FORMAT parquet)");
            duck.Add(clock.Elapsed.TotalSeconds);

            log.Info($"(b) CtBuild Ingest, run {run}/{repeats} ...");
            ingest.Add(TimeIngest(csv, Path.Combine(workDir, $"ws-{run}"), log, expectedRows: rows));
        }
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;

        // The same file with one row in a thousand breaking a rule (int_1 below its minimum of 0).
        var badRows = rows / 1000;
        var withBad = Path.Combine(workDir, "bench-bad.csv");
        using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
            db.Exec($"COPY (SELECT * REPLACE (CASE WHEN id % 1000 = 7 THEN -1 ELSE int_1 END AS int_1) FROM ({GeneratorSql(rows, 0)})) TO {Literal(withBad)} (HEADER, DELIMITER ',')");
        log.Info("(b) CtBuild Ingest of the file with bad rows ...");
        var bad = TimeIngest(withBad, Path.Combine(workDir, "ws-bad"), log, expectedRows: rows - badRows);

        double first = 0, noop = 0;
        long noOpBytes = 0;
        if (noOpFiles > 0)
        {
            var many = Workspace(Path.Combine(workDir, "many"));
            var rowsPerFile = Math.Max(1, noOpMegabytes * 1_000_000 / noOpFiles / 105); // ~105 bytes a row
            log.Info($"generating {noOpFiles} files of {rowsPerFile:N0} rows ...");
            using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
            {
                db.Exec($"CREATE TABLE chunk AS {GeneratorSql(rowsPerFile, 0)}");
                for (var i = 0; i < noOpFiles; i++)
                    db.Exec($"COPY (SELECT * REPLACE (id + {(long)i * rowsPerFile} AS id) FROM chunk) TO {Literal(Path.Combine(many.RawDir, $"part-{i:D4}.csv"))} (HEADER, DELIMITER ',')");
            }
            noOpBytes = Directory.EnumerateFiles(many.RawDir).Sum(f => new FileInfo(f).Length);
            var clock = Stopwatch.StartNew();
            StageRunner.Run(PipelineDefinition.Get("ingest"), new StageContext(many, log, new RunOptions()));
            first = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var again = StageRunner.Run(PipelineDefinition.Get("ingest"), new StageContext(many, new MemoryLog(), new RunOptions()));
            noop = clock.Elapsed.TotalSeconds;
            if (again.Ran) throw new InvalidOperationException("the no-op ingest ran; the benchmark is invalid");
        }
        return new IngestBenchmarkResult(rows, 20, csvBytes, duck, ingest, bad, badRows, peak, noOpFiles, noOpBytes, first, noop);
    }

    /// <summary>Ingests a copy of <paramref name="csv"/> into a new workspace; checks the row count so a broken run cannot look fast.</summary>
    static double TimeIngest(string csv, string root, IPipelineLog log, long expectedRows)
    {
        var ws = Workspace(root);
        File.Copy(csv, Path.Combine(ws.RawDir, "bench.csv"));
        var clock = Stopwatch.StartNew();
        var result = StageRunner.Run(PipelineDefinition.Get("ingest"), new StageContext(ws, log, new RunOptions()));
        var seconds = clock.Elapsed.TotalSeconds;
        var good = long.Parse(result.Outputs!.Get("rows.good")!, CultureInfo.InvariantCulture);
        if (good != expectedRows)
            throw new InvalidOperationException($"Ingest put {good:N0} rows in raw, expected {expectedRows:N0}; the benchmark is invalid");
        Directory.Delete(root, recursive: true); // keep the scratch folder's disk use flat across repeats
        return seconds;
    }

    static string GeneratorSql(long rows, long offset)
    {
        var cols = new List<string> { $"i + {offset} AS id" };
        for (var c = 1; c < IntColumns; c++) cols.Add($"(hash(i * {c}) % 1000)::BIGINT AS int_{c}");
        for (var c = 0; c < DoubleColumns; c++) cols.Add($"round((hash(i + {c * 7919}) % 100000) / 997.0, 3) AS num_{c}");
        for (var c = 0; c < StringColumns; c++) cols.Add($"'cat_' || (hash(i * {c + 13}) % {5 + c * 10})::VARCHAR AS str_{c}");
        cols.Add("CASE WHEN hash(i) % 4 = 0 THEN 'yes' ELSE 'no' END AS label");
        return $"SELECT {string.Join(", ", cols)} FROM range({rows}) t(i)";
    }

    static Workspace Workspace(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "data", "raw"));
        var columns = new List<string> { "\"id\": { \"type\": \"int\", \"nullable\": false }" };
        for (var c = 1; c < IntColumns; c++) columns.Add($"\"int_{c}\": {{ \"type\": \"int\", \"min\": 0 }}");
        for (var c = 0; c < DoubleColumns; c++) columns.Add($"\"num_{c}\": {{ \"type\": \"double\" }}");
        for (var c = 0; c < StringColumns; c++) columns.Add($"\"str_{c}\": {{ \"type\": \"string\" }}");
        columns.Add("\"label\": { \"type\": \"string\", \"nullable\": false }");
        File.WriteAllText(Path.Combine(root, "ctbuild.json"), $$"""
            { "name": "bench", "ingest": { "label": { "column": "label", "positive": "yes", "values": ["yes", "no"] },
              "columns": { {{string.Join(", ", columns)}} } },
              "features": { "sql": "f.sql" }, "tune": { "space": { "trainer": { "choice": { "FastTree": {} } } } } }
            """);
        return Configuration.Workspace.Load(Path.Combine(root, "ctbuild.json"));
    }
}
