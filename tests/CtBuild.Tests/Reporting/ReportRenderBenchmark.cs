using System.Diagnostics;
using System.Text;
using CtBuild.Reporting;
using Xunit.Abstractions;

namespace CtBuild.Tests.Reporting;

/// <summary>
/// Prints render time and page size. Run:
/// dotnet test tests/CtBuild.Tests --filter "FullyQualifiedName~ReportRenderBenchmark" --logger "console;verbosity=detailed"
/// Only the size budget is asserted; times are printed, not asserted (the machine is shared).
/// </summary>
public sealed class ReportRenderBenchmark(ITestOutputHelper output)
{
    const int SizeBudgetBytes = 2_000_000; // the inlined chart libraries are ~830 kB of it

    [Fact]
    [Trait("Category", "Benchmark")]
    public void Render_time_and_size()
    {
        var coldWatch = Stopwatch.StartNew();
        var renderer = new ReportRenderer();
        var full = ReportSamples.Full();
        var html = renderer.RenderReport(full);
        var cold = coldWatch.Elapsed;

        var index = IndexPage.FromRuns(Enumerable.Range(0, 100).Select(i =>
            IndexEntry.From(full with { RunId = $"run-{i:000}", StartedAt = full.StartedAt.AddDays(i) }, $"run-{i:000}/report.html")));
        var cases = new (string Name, Func<string> Render)[]
        {
            ("report, full sample (30 trials, 1000 resamples)", () => renderer.RenderReport(full)),
            ("report, first run", () => renderer.RenderReport(ReportSamples.FirstRun())),
            ("index, 100 runs", () => renderer.RenderIndex(index)),
            ("markdown summary", () => renderer.RenderMarkdownSummary(full)),
        };
        output.WriteLine($"first render in a fresh renderer (parse + assets load): {cold.TotalMilliseconds:0.0} ms");
        foreach (var (name, render) in cases)
        {
            var times = new List<double>();
            string text = "";
            for (var i = 0; i < 5; i++)
            {
                var watch = Stopwatch.StartNew();
                text = render();
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            var bytes = Encoding.UTF8.GetByteCount(text);
            output.WriteLine($"{name,-50} median {times[times.Count / 2],7:0.00} ms   min {times[0],7:0.00} ms   {bytes,9:#,0} bytes");
            Assert.InRange(bytes, 1, SizeBudgetBytes);
        }
        Assert.InRange(Encoding.UTF8.GetByteCount(html), 1, SizeBudgetBytes);
    }
}
