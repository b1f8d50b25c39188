using System.Diagnostics;
using System.Globalization;
using System.Text;
using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Stages;
using CtBuild.Storage;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Ingest.Benchmarks;

/// <summary>Figures of one ingest benchmark run.</summary>
public sealed record IngestBenchmarkResult(
    long Rows, int Columns, long CsvBytes,
    double DuckDbCopySeconds, double IngestSeconds, long PeakWorkingSetBytes,
    int NoOpFiles, long NoOpBytes, double NoOpFirstIngestSeconds, double NoOpSeconds)
{
    public double Ratio => IngestSeconds / DuckDbCopySeconds;

    public string Format()
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"CSV: {Rows:N0} rows x {Columns} columns, {CsvBytes / 1e6:0} MB");
        s.AppendLine(CultureInfo.InvariantCulture, $"  (a) DuckDB alone, CSV -> Parquet      {DuckDbCopySeconds,8:0.00} s");
        s.AppendLine(CultureInfo.InvariantCulture, $"  (b) CtBuild Ingest into the lake      {IngestSeconds,8:0.00} s   (hash, capture, contract, quarantine, Delta commit)");
        s.AppendLine(CultureInfo.InvariantCulture, $"  ratio (b)/(a)                         {Ratio,8:0.00}    goal <= 1.5");
        s.AppendLine(CultureInfo.InvariantCulture, $"  peak working set of this process      {PeakWorkingSetBytes / 1048576.0,8:0} MiB goal < 2048");
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
/// columns), then a no-op Ingest over a folder of many files, which must not re-read them.
/// </summary>
public static class IngestBenchmark
{
    const int IntColumns = 7, DoubleColumns = 6, StringColumns = 6; // + label = 20

    public static IngestBenchmarkResult Run(long rows, int noOpFiles, long noOpMegabytes, string workDir, IPipelineLog log)
    {
        Directory.CreateDirectory(workDir);
        var csv = Path.Combine(workDir, "bench.csv");
        log.Info($"generating {rows:N0} rows ...");
        using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
            db.Exec($"COPY ({GeneratorSql(rows, 0)}) TO {Literal(csv)} (HEADER, DELIMITER ',')");

        log.Info("(a) DuckDB CSV -> Parquet ...");
        var clock = Stopwatch.StartNew();
        using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
            db.Exec($"COPY (SELECT * FROM read_csv({Literal(csv)})) TO {Literal(Path.Combine(workDir, "duckdb.parquet"))} (FORMAT parquet)");
        var duck = clock.Elapsed.TotalSeconds;

        log.Info("(b) CtBuild Ingest ...");
        var ws = Workspace(Path.Combine(workDir, "ws"));
        File.Move(csv, Path.Combine(ws.RawDir, "bench.csv"));
        clock.Restart();
        StageRunner.Run(new IngestStage(), new StageContext(ws, log, new RunOptions()));
        var ingest = clock.Elapsed.TotalSeconds;
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;
        var csvBytes = new FileInfo(Path.Combine(ws.RawDir, "bench.csv")).Length;

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
            clock.Restart();
            StageRunner.Run(new IngestStage(), new StageContext(many, log, new RunOptions()));
            first = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var again = StageRunner.Run(new IngestStage(), new StageContext(many, new MemoryLog(), new RunOptions()));
            noop = clock.Elapsed.TotalSeconds;
            if (again.Ran) throw new InvalidOperationException("the no-op ingest ran; the benchmark is invalid");
        }
        return new IngestBenchmarkResult(rows, 20, csvBytes, duck, ingest, peak, noOpFiles, noOpBytes, first, noop);
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
