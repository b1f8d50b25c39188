using CtBuild.Ingest.Benchmarks;
using CtBuild.Pipeline;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Ingest.Benchmarks;

/// <summary>The benchmark's own checks on a tiny file: it must measure a real ingest, not time a broken one.</summary>
public sealed class IngestBenchmarkTests : IDisposable
{
    readonly TempWorkspace _tmp = new();

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void A_small_run_ingests_every_row_and_reports_both_times_and_the_no_op()
    {
        var result = IngestBenchmark.Run(rows: 5_000, noOpFiles: 4, noOpMegabytes: 1, Path.Combine(_tmp.Root, "bench"), new MemoryLog(), repeats: 2);

        Assert.Equal(2, result.DuckDbCopyRuns.Count);
        Assert.Equal(2, result.IngestRuns.Count);
        Assert.Equal(5, result.BadRows);
        Assert.True(result.CsvBytes > 5_000 * 50);
        Assert.Equal(4, result.NoOpFiles);
        var text = result.Format();
        Assert.Contains("ratio (b)/(a)", text);
        Assert.Contains("no-op ingest (nothing new)", text);
        Assert.Equal(new[] { "bench.csv", "duckdb.parquet", "bench-bad.csv" }.Order(), Directory.EnumerateFiles(Path.Combine(_tmp.Root, "bench")).Select(Path.GetFileName).Order());
    }
}
