using CtBuild.Configuration;
using CtBuild.Pipeline;
using CtBuild.Stages;
using CtBuild.Tests.Support;
using CtBuild.Tuning.Benchmarks;

namespace CtBuild.Tests.Tuning.Benchmarks;

public class WorkerScalingBenchmarkTests
{
    [Fact]
    public void The_ceiling_line_scales_by_the_worker_count_and_each_mode_has_its_own_baseline()
    {
        var result = new WorkerScalingResult(40, [
            new WorkerRun(1, 32.0, 30.0, 40, 1),
            new WorkerRun(1, 48.0, 46.0, 40, 1, WorkerMode.Pinned),
            new WorkerRun(2, 20.0, 18.0, 40, 2),
            new WorkerRun(2, 30.0, 27.6, 40, 2, WorkerMode.Pinned),
            new WorkerRun(2, 40.0, 36.0, 80, 2, WorkerMode.Independent),
        ], 500, 4.0, "postgresql://x@127.0.0.1:5432/db");

        var lines = result.Format().Split('\n');

        // Shared: 32 / 20 = 1.60; pinned against the pinned single worker: 48 / 30 = 1.60 (not 32 / 30);
        // independent: 2 x 32 / 40 = 1.60 on wall, 2 x 30 / 36 = 1.67 on the trial span.
        Assert.Contains(lines, l => l.Contains("2 worker(s):    20.0 s wall, speed-up 1.60x", StringComparison.Ordinal) && l.Contains("speed-up 1.67x", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("2 worker(s):    30.0 s wall, speed-up 1.60x", StringComparison.Ordinal) && l.Contains("speed-up 1.67x", StringComparison.Ordinal));
        var ceiling = Array.FindIndex(lines, l => l.Contains("Ceiling", StringComparison.Ordinal));
        Assert.Contains("2 worker(s):    40.0 s wall, speed-up 1.60x; first claim to last finish    36.0 s, speed-up 1.67x  (80 trials", lines[ceiling + 1], StringComparison.Ordinal);
    }

    [Fact]
    public void Drawn_rows_repeat_the_raw_rows_in_turn_with_fresh_keys_and_ingest_cleanly()
    {
        using var ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);
        var first = ws.WriteRaw("a.csv", SmallConfig.Rows(30));
        var second = ws.WriteRaw("b.csv.gz", SmallConfig.Rows(20, firstId: 31, seed: 2));
        var output = Path.Combine(ws.Root, "drawn.csv");

        WorkerScalingBenchmark.WriteRows(ws.Load(), [first, second], output, 125);

        var lines = File.ReadAllLines(output);
        Assert.Equal(SmallConfig.Header, lines[0]);
        Assert.Equal(125, lines.Length - 1);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(Enumerable.Range(1, 125), rows.Select(r => int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)).Order());
        // Every drawn row is a raw row with its key replaced; 125 rows of 50 take each raw row two or three times.
        var raw = (SmallConfig.Rows(30) + SmallConfig.Rows(20, firstId: 31, seed: 2)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l != SmallConfig.Header).Select(l => string.Join(',', l.Split(',').Skip(1))).ToList();
        var drawn = rows.Select(r => string.Join(',', r.Skip(1))).ToList();
        Assert.All(drawn, d => Assert.Contains(d, raw));
        Assert.All(raw.Distinct().Select(r => drawn.Count(d => d == r) / (double)raw.Count(x => x == r)), times => Assert.InRange(times, 2, 3));

        // The drawn file is what the scratch workspace ingests: every row passes the contract.
        File.Delete(first);
        File.Delete(second);
        File.Move(output, Path.Combine(ws.RawDir, "drawn.csv"));
        var ingest = ws.Run(PipelineDefinition.UpTo("ingest").Last());
        Assert.Contains("125 rows", ingest.Summary);
        Assert.Contains("0 quarantined", ingest.Summary);
    }

    [Fact]
    public void Drawing_rows_from_a_folder_without_csv_files_is_refused_with_what_to_do()
    {
        using var ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);
        var parquet = ws.WriteRawBytes("a.parquet", [1, 2, 3]);

        var error = Assert.Throws<ConfigException>(() => WorkerScalingBenchmark.WriteRows(ws.Load(), [parquet], Path.Combine(ws.Root, "x.csv"), 100));
        Assert.Contains("without --rows", error.Message);
    }
}
