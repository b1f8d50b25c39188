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
    public void A_small_run_ingests_every_row_of_every_format_and_reports_each_ratio_and_the_many_files()
    {
        var result = IngestBenchmark.Run(rows: 5_000, manyFiles: 4, manyMegabytes: 1, Path.Combine(_tmp.Root, "bench"), new MemoryLog(), repeats: 1);

        Assert.Equal(["CSV, clean", "CSV, 0.1% rows break a rule", "gzipped CSV", "Parquet", "Parquet, 0.1% rows break a rule",
            "JSON lines", "JSON lines, 0.1% rows break a rule"], result.Formats.Select(f => f.Format));
        Assert.All(result.Formats, f => Assert.Single(f.DuckDbRuns));
        Assert.All(result.Formats, f => Assert.Single(f.IngestRuns));
        Assert.Equal(5, result.BadRows);
        Assert.All(result.Formats.Where(f => f.Format.Contains("break a rule")), f => Assert.Equal(4_995, f.GoodRows));
        Assert.Equal(4, result.ManyFiles);
        Assert.Single(result.ManyIngestRuns);
        var text = result.Format();
        Assert.Contains("JSON lines", text);
        Assert.Contains("one read_csv of a glob", text);
        Assert.Contains("no-op ingest (nothing new)", text);
        Assert.Contains("load average", text);
    }

    [Fact]
    public void Inputs_can_be_picked_by_key()
    {
        var result = IngestBenchmark.Run(rows: 2_000, manyFiles: 0, manyMegabytes: 0, Path.Combine(_tmp.Root, "bench"), new MemoryLog(), repeats: 1,
            only: ["parquet-bad", "jsonl"]);

        Assert.Equal(["Parquet, 0.1% rows break a rule", "JSON lines"], result.Formats.Select(f => f.Format));
        Assert.Equal([1_998L, 2_000], result.Formats.Select(f => f.GoodRows));
    }
}
