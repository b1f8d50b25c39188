using System.Diagnostics;
using CtBuild.Tracking;
using Xunit.Abstractions;

namespace CtBuild.Tests.Tracking;

/// <summary>
/// Prints how fast runs are logged and queried. Small by default so the folder stays fast; for real
/// figures: <c>CTB_BENCH_RUNS=2000 dotnet test tests/CtBuild.Tests --filter "FullyQualifiedName~TrackingStoreBenchmark"
/// --logger "console;verbosity=detailed"</c>.
/// </summary>
[Trait("Category", "Benchmark")]
public class TrackingStoreBenchmark(ITestOutputHelper output)
{
    [Fact]
    public void Log_and_query_runs()
    {
        var runs = int.TryParse(Environment.GetEnvironmentVariable("CTB_BENCH_RUNS"), out var n) ? n : 100;
        using var temp = new TempFolder();
        var store = TrackingStore.Open(temp.Path);

        var clock = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
        {
            using var run = store.StartRun("bench", $"trial-{i}");
            run.LogParam("trainer", i % 2 == 0 ? "LightGbm" : "FastTree");
            run.LogParam("leaves", (i % 64).ToString());
            for (var step = 0; step < 5; step++) run.LogMetric("auc", i / (double)runs * (step + 1) / 5, step);
            run.LogMetric("logloss", 1.0 - i / (double)runs);
            run.End(RunStatus.Finished);
        }
        var logSeconds = clock.Elapsed.TotalSeconds;

        var query = new RunQuery("bench", "metrics.auc > 0.5 and params.trainer = 'LightGbm'", "metrics.auc DESC", 10);
        store.ListRunIds(query); // DuckDB warm-up
        clock.Restart();
        var top = store.ListRunIds(query);
        var queryMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var records = top.Select(store.GetRun).ToList();
        var getMs = clock.Elapsed.TotalMilliseconds / Math.Max(1, records.Count);

        var matching = Enumerable.Range(0, runs).Count(i => i % 2 == 0 && i / (double)runs > 0.5);
        Assert.Equal(Math.Min(10, matching), top.Count);
        Assert.True(records.Zip(records.Skip(1)).All(p => p.First.Metrics["auc"] >= p.Second.Metrics["auc"]));
        output.WriteLine($"logged {runs} runs ({runs * 9} events) in {logSeconds:F2} s: {runs / logSeconds:F0} runs/s, " +
                         $"{runs * 9 / logSeconds:F0} events/s (each fsync'd)");
        output.WriteLine($"filter + order + limit 10 over {runs} runs with DuckDB: {queryMs:F0} ms; GetRun: {getMs:F2} ms each");
    }
}
