using System.Diagnostics;
using System.Globalization;
using System.Text;
using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Storage;
using static CtBuild.Storage.DuckDb;

namespace CtBuild.Ingest.Benchmarks;

/// <summary>One input format timed both ways: DuckDB's own copy of the file to Parquet, and Ingest of it into the lake.</summary>
/// <param name="DuckDbCpu">CPU seconds of this process during each DuckDB copy (less sensitive to the shared machine's load than wall time).</param>
/// <param name="IngestPhases">Where the last Ingest's time went: before the stage ran (the freshness check, which hashes the file) and the stage's own phases.</param>
public sealed record FormatTiming(string Format, string File, long Bytes, long GoodRows, IReadOnlyList<double> DuckDbRuns, IReadOnlyList<double> IngestRuns, double Goal,
    IReadOnlyList<double> DuckDbCpu, IReadOnlyList<double> IngestCpu, string IngestPhases)
{
    public double DuckDbSeconds => IngestBenchmarkResult.Median(DuckDbRuns);
    public double IngestSeconds => IngestBenchmarkResult.Median(IngestRuns);
    public double Ratio => IngestSeconds / DuckDbSeconds;
}

/// <summary>Figures of one ingest benchmark run; the times are medians of interleaved repeats (A B A B …).</summary>
public sealed record IngestBenchmarkResult(
    long Rows, int Columns, long BadRows, IReadOnlyList<FormatTiming> Formats, long PeakWorkingSetBytes,
    int ManyFiles, long ManyBytes, IReadOnlyList<double> ManyDuckDbRuns, IReadOnlyList<double> ManyIngestRuns, double NoOpSeconds, string LoadAtStart, string Load)
{
    public double ManyRatio => Median(ManyIngestRuns) / Median(ManyDuckDbRuns);

    internal static double Median(IReadOnlyList<double> xs)
    {
        var sorted = xs.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public string Format()
    {
        static string Runs(IReadOnlyList<double> xs) => string.Join(", ", xs.Select(x => x.ToString("0.00", CultureInfo.InvariantCulture)));
        var s = new StringBuilder();
        var runs = Formats.Count > 0 ? Formats[0].IngestRuns.Count : 0;
        s.AppendLine(CultureInfo.InvariantCulture, $"{Rows:N0} rows x {Columns} columns; medians of {runs} interleaved run(s) (DuckDB, Ingest, DuckDB, Ingest, …); load average {LoadAtStart} at the start, {Load} at the end");
        s.AppendLine("  input                                DuckDB copy   CtBuild Ingest   ratio   goal");
        foreach (var f in Formats)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"  {f.Format,-34} {f.DuckDbSeconds,9:0.00} s {f.IngestSeconds,12:0.00} s {f.Ratio,9:0.00}   <= {f.Goal:0.0}   ({f.Bytes / 1e6:0} MB; DuckDB {Runs(f.DuckDbRuns)}; Ingest {Runs(f.IngestRuns)})");
            s.AppendLine(CultureInfo.InvariantCulture, $"  {"",-34} CPU {Median(f.DuckDbCpu),7:0.00} s CPU {Median(f.IngestCpu),8:0.00} s {Median(f.IngestCpu) / Median(f.DuckDbCpu),9:0.00}   (CPU seconds of the process, medians)");
            s.AppendLine(CultureInfo.InvariantCulture, $"  {"",-34} Ingest's phases: {f.IngestPhases}");
        }
        s.AppendLine("  (Ingest: hash, capture, numbered copy, contract checks, quarantine, Delta commit; the file is read once; each timed run starts after a sync)");
        s.AppendLine(CultureInfo.InvariantCulture, $"  peak working set of this process over the whole run {PeakWorkingSetBytes / 1048576.0,8:0} MiB   goal < 1024");
        if (ManyFiles > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"{ManyFiles} files, {ManyBytes / 1e9:0.00} GB, first ingest vs DuckDB reading them in one read_csv of a glob:");
            s.AppendLine(CultureInfo.InvariantCulture, $"  DuckDB glob -> Parquet {Median(ManyDuckDbRuns),8:0.00} s   CtBuild Ingest {Median(ManyIngestRuns),8:0.00} s   ratio {ManyRatio:0.00}   goal <= 1.5   (DuckDB {Runs(ManyDuckDbRuns)}; Ingest {Runs(ManyIngestRuns)})");
            s.AppendLine(CultureInfo.InvariantCulture, $"  no-op ingest (nothing new)  {NoOpSeconds,8:0.000} s   goal < 1");
        }
        return s.ToString();
    }
}

/// <summary>
/// Times DuckDB's own copy to Parquet against CtBuild's Ingest of the same generated file (20 mixed columns), for a
/// clean CSV, a CSV where one row in a thousand breaks a rule, a gzipped CSV, Parquet and JSON lines; interleaved so a
/// busy moment of the shared machine hits both. Then the first ingest of a folder of many files against DuckDB
/// reading them in one glob, and a no-op ingest of that folder, which must not re-read them.
/// </summary>
public static class IngestBenchmark
{
    const int IntColumns = 7, DoubleColumns = 6, StringColumns = 6; // + label = 20

    /// <summary>The inputs the benchmark can time, by the key <c>--inputs</c> names them with.</summary>
    public static readonly IReadOnlyList<string> InputKeys = ["csv", "csv-bad", "csv-gz", "parquet", "parquet-bad", "jsonl", "jsonl-bad"];

    public static IngestBenchmarkResult Run(long rows, int manyFiles, long manyMegabytes, string workDir, IPipelineLog log, int repeats = 3,
        IReadOnlyCollection<string>? only = null)
    {
        Directory.CreateDirectory(workDir);
        var loadAtStart = LoadAverage();
        var badRows = rows / 1000;
        const string Bad = "0.1% rows break a rule";
        var inputs = new List<(string Key, string Format, string File, string Read, long Good, double Goal)>
        {
            ("csv", "CSV, clean", "bench.csv", "read_csv", rows, 1.3),
            ("csv-bad", $"CSV, {Bad}", "bench-bad.csv", "read_csv", rows - badRows, 1.6),
            ("csv-gz", "gzipped CSV", "bench.csv.gz", "read_csv", rows, 1.3),
            ("parquet", "Parquet", "bench.parquet", "read_parquet", rows, 1.3),
            ("parquet-bad", $"Parquet, {Bad}", "bench-bad.parquet", "read_parquet", rows - badRows, 1.6),
            ("jsonl", "JSON lines", "bench.jsonl", "read_json", rows, 1.3),
            ("jsonl-bad", $"JSON lines, {Bad}", "bench-bad.jsonl", "read_json", rows - badRows, 1.6),
        }.Where(x => only is null || only.Count == 0 || only.Contains(x.Key)).ToList();
        log.Info($"generating {rows:N0} rows in {inputs.Count} files ...");
        using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
        {
            // One row in a thousand has int_1 below its minimum of 0.
            var bad = $"SELECT * REPLACE (CASE WHEN id % 1000 = 7 THEN -1 ELSE int_1 END AS int_1) FROM ({GeneratorSql(rows, 0)})";
            foreach (var input in inputs)
            {
                var options = input.Read switch
                {
                    "read_parquet" => "FORMAT parquet",
                    "read_json" => "FORMAT json",
                    _ => input.File.EndsWith(".gz", StringComparison.Ordinal) ? "HEADER, DELIMITER ',', COMPRESSION gzip" : "HEADER, DELIMITER ','",
                };
                db.Exec($"COPY ({(input.Key.EndsWith("-bad", StringComparison.Ordinal) ? bad : GeneratorSql(rows, 0))}) TO {Literal(Path.Combine(workDir, input.File))} ({options})");
            }
        }

        // One small ingest first, so the first timed one does not carry the process's JIT and DuckDB warm-up.
        using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
            db.Exec($"COPY ({GeneratorSql(1000, 0)}) TO {Literal(Path.Combine(workDir, "warm-up.csv"))} (HEADER, DELIMITER ',')");
        TimeIngest(Path.Combine(workDir, "warm-up.csv"), Path.Combine(workDir, "ws-warm-up"), new MemoryLog(), expectedRows: 1000);

        var duck = inputs.Select(_ => new List<double>()).ToList();
        var ingest = inputs.Select(_ => new List<double>()).ToList();
        var duckCpu = inputs.Select(_ => new List<double>()).ToList();
        var ingestCpu = inputs.Select(_ => new List<double>()).ToList();
        var phases = inputs.Select(_ => "").ToList();
        for (var run = 1; run <= repeats; run++)
            for (var k = 0; k < inputs.Count; k++)
            {
                var (_, format, file, read, good, _) = inputs[k];
                var path = Path.Combine(workDir, file);
                log.Info($"{format}, run {run}/{repeats}: DuckDB copy ...");
                var copy = TimeDuckDbCopy($"SELECT * FROM {read}({Literal(path)})", workDir);
                (duck[k], duckCpu[k]) = ([.. duck[k], copy.Seconds], [.. duckCpu[k], copy.Cpu]);
                log.Info($"{format}, run {run}/{repeats}: CtBuild Ingest ...");
                var timed = TimeIngest(path, Path.Combine(workDir, $"ws-{k}-{run}"), log, expectedRows: good);
                (ingest[k], ingestCpu[k], phases[k]) = ([.. ingest[k], timed.Seconds], [.. ingestCpu[k], timed.Cpu], timed.Phases);
            }
        var formats = inputs.Select((x, k) => new FormatTiming(x.Format, x.File, new FileInfo(Path.Combine(workDir, x.File)).Length, x.Good, duck[k], ingest[k], x.Goal,
            duckCpu[k], ingestCpu[k], phases[k])).ToList();

        var manyDuck = new List<double>();
        var manyIngest = new List<double>();
        double noop = 0;
        long manyBytes = 0;
        if (manyFiles > 0)
        {
            var folder = Path.Combine(workDir, "many");
            Directory.CreateDirectory(folder);
            var rowsPerFile = Math.Max(1, manyMegabytes * 1_000_000 / manyFiles / 105); // ~105 bytes a row
            log.Info($"generating {manyFiles} files of {rowsPerFile:N0} rows ...");
            using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
            {
                db.Exec($"CREATE TABLE chunk AS {GeneratorSql(rowsPerFile, 0)}");
                for (var i = 0; i < manyFiles; i++)
                    db.Exec($"COPY (SELECT * REPLACE (id + {(long)i * rowsPerFile} AS id) FROM chunk) TO {Literal(Path.Combine(folder, $"part-{i:D4}.csv"))} (HEADER, DELIMITER ',')");
            }
            manyBytes = Directory.EnumerateFiles(folder).Sum(f => new FileInfo(f).Length);
            for (var run = 1; run <= Math.Min(repeats, 2); run++)
            {
                log.Info($"{manyFiles} files, run {run}: DuckDB glob copy ...");
                manyDuck.Add(TimeDuckDbCopy($"SELECT * FROM read_csv({Literal(Path.Combine(folder, "*.csv"))})", workDir).Seconds);
                log.Info($"{manyFiles} files, run {run}: CtBuild Ingest ...");
                var ws = Workspace(Path.Combine(workDir, $"many-ws-{run}"));
                Directory.Delete(ws.RawDir);
                Directory.Move(folder, ws.RawDir);
                FlushDirtyPages();
                var clock = Stopwatch.StartNew();
                var first = StageRunner.Run(PipelineDefinition.Get("ingest"), new StageContext(ws, log, new RunOptions()));
                manyIngest.Add(clock.Elapsed.TotalSeconds);
                if (first.Outputs!.Get("rows.good") != (rowsPerFile * manyFiles).ToString(CultureInfo.InvariantCulture))
                    throw new InvalidOperationException($"Ingest of the {manyFiles} files put {first.Outputs.Get("rows.good")} rows in raw, expected {rowsPerFile * manyFiles}; the benchmark is invalid");
                if (run == 1)
                {
                    clock.Restart();
                    var again = StageRunner.Run(PipelineDefinition.Get("ingest"), new StageContext(ws, new MemoryLog(), new RunOptions()));
                    noop = clock.Elapsed.TotalSeconds;
                    if (again.Ran) throw new InvalidOperationException("the no-op ingest ran; the benchmark is invalid");
                }
                Directory.Move(ws.RawDir, folder);
                Directory.Delete(ws.Root, recursive: true);
            }
        }
        var peak = Process.GetCurrentProcess().PeakWorkingSet64; // over every ingest of the run, the many files' included
        return new IngestBenchmarkResult(rows, 20, badRows, formats, peak, manyFiles, manyBytes, manyDuck, manyIngest, noop, loadAtStart, LoadAverage());
    }

    static (double Seconds, double Cpu) TimeDuckDbCopy(string select, string workDir)
    {
        FlushDirtyPages();
        var cpu = CpuSeconds();
        var clock = Stopwatch.StartNew();
        using (var db = DuckDb.Open(Path.Combine(workDir, "spill")))
            db.Exec($"COPY ({select}) TO {Literal(Path.Combine(workDir, "duckdb.parquet"))} (FORMAT parquet)");
        var seconds = clock.Elapsed.TotalSeconds;
        cpu = CpuSeconds() - cpu;
        File.Delete(Path.Combine(workDir, "duckdb.parquet"));
        return (seconds, cpu);
    }

    /// <summary>
    /// Writes the page cache's dirty pages to disk before a timed run (Linux's <c>sync</c>), so neither side pays for what
    /// the set-up or the run before it wrote: a delivered file has long been on disk. Without it, the 1.4 GB JSON-lines
    /// file copied into the workspace, then captured and numbered, took Ingest past the kernel's dirty-page limits, where
    /// every writer is held to the disk's speed (the capture took 4.9–7.3 s of a 22 s Ingest, at 5M rows).
    /// </summary>
    static void FlushDirtyPages()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var sync = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false });
        sync?.WaitForExit();
    }

    static double CpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <summary>The 1, 5 and 15 minute load averages, to print beside the figures (the machine may be shared).</summary>
    static string LoadAverage() => File.Exists("/proc/loadavg")
        ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>Ingests a copy of <paramref name="csv"/> into a new workspace; checks the row count so a broken run cannot look fast.</summary>
    static (double Seconds, double Cpu, string Phases) TimeIngest(string input, string root, IPipelineLog log, long expectedRows)
    {
        var ws = Workspace(root);
        File.Copy(input, Path.Combine(ws.RawDir, Path.GetFileName(input)));
        FlushDirtyPages();
        var phaseLog = new PhaseLog(log);
        var cpu = CpuSeconds();
        var clock = Stopwatch.StartNew();
        var result = StageRunner.Run(PipelineDefinition.Get("ingest"), new StageContext(ws, phaseLog, new RunOptions()));
        var seconds = clock.Elapsed.TotalSeconds;
        cpu = CpuSeconds() - cpu;
        var good = long.Parse(result.Outputs!.Get("rows.good")!, CultureInfo.InvariantCulture);
        if (good != expectedRows)
            throw new InvalidOperationException($"Ingest put {good:N0} rows in raw, expected {expectedRows:N0}; the benchmark is invalid");
        Directory.Delete(root, recursive: true); // keep the scratch folder's disk use flat across repeats
        var before = seconds - phaseLog.RunSeconds;
        return (seconds, cpu, string.Create(CultureInfo.InvariantCulture, $"before the stage ran (hash, freshness) {before:0.00} s; stage {phaseLog.RunSeconds:0.00} s: {phaseLog.Phases}"));
    }

    /// <summary>Passes every line on and keeps Ingest's phase line ("ingest: ran 3.10 s: capture 0.20 s, …").</summary>
    sealed class PhaseLog(IPipelineLog inner) : IPipelineLog
    {
        const string Prefix = "ingest: ran ";
        public double RunSeconds { get; private set; }
        public string Phases { get; private set; } = "";

        public void Info(string message)
        {
            if (message.StartsWith(Prefix, StringComparison.Ordinal) && message.IndexOf(" s: ", StringComparison.Ordinal) is var end and > 0)
            {
                RunSeconds = double.Parse(message[Prefix.Length..end], CultureInfo.InvariantCulture);
                Phases = message[(end + 4)..];
            }
            inner.Info(message);
        }

        public void Warning(string message, string? file = null, int? line = null) => inner.Warning(message, file, line);
        public void Progress(string step, int done, int total, string status) => inner.Progress(step, done, total, status);
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
