using System.Diagnostics;

namespace CtBuild.Lake;

/// <summary>Timings of writing one CSV to parquet: DuckDB's COPY alone versus a full <see cref="DeltaWriter"/> commit.</summary>
public sealed record LakeWriteFigures(string CsvPath, long Rows, int Repetitions, TimeSpan DuckDbCopy, TimeSpan DeltaWrite)
{
    /// <summary>What the Delta commit (stats, digest, log entry) costs on top of the COPY, as a ratio.</summary>
    public double Overhead => DuckDbCopy.TotalMilliseconds == 0 ? double.NaN : DeltaWrite.TotalMilliseconds / DuckDbCopy.TotalMilliseconds;
}

/// <summary>Measures the lake's write overhead. Call from a CLI verb; prints nothing itself.</summary>
public static class LakeWriteBenchmark
{
    /// <summary>
    /// After one warm-up of each, runs both writes <paramref name="repetitions"/> times in a scratch folder
    /// and reports the median time of each. The CSV is read with DuckDB's read_csv auto-detection.
    /// </summary>
    public static LakeWriteFigures Run(string csvPath, int repetitions = 5)
    {
        if (!File.Exists(csvPath)) throw new FileNotFoundException($"Benchmark input {csvPath} does not exist. Pass a CSV file.", csvPath);
        var scratch = Path.Combine(Path.GetTempPath(), "ctb-lake-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            using var connection = DuckDbQuery.OpenInMemory();
            var select = $"SELECT * FROM read_csv({DeltaSchema.Literal(Path.GetFullPath(csvPath))})";
            var writer = new DeltaWriter(connection);
            long rows = 0;
            TimeSpan Copy(int i) => Time(() => DuckDbQuery.Rows(connection,
                $"COPY ({select}) TO {DeltaSchema.Literal(Path.Combine(scratch, $"copy-{i}.parquet"))} (FORMAT parquet, COMPRESSION snappy)"));
            TimeSpan Delta(int i) => Time(() => rows = writer.Write(DeltaTable.At(Path.Combine(scratch, $"table-{i}")), select, WriteMode.Append, "BENCHMARK").RowsWritten);

            Copy(-1);
            Delta(-1);
            var copies = Enumerable.Range(0, repetitions).Select(Copy).ToList();
            var deltas = Enumerable.Range(0, repetitions).Select(Delta).ToList();
            return new LakeWriteFigures(csvPath, rows, repetitions, Median(copies), Median(deltas));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static TimeSpan Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed;
    }

    private static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);
}
