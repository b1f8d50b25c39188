using CtBuild.Reporting;

namespace CtBuild.Tests.Reporting;

/// <summary>One browser for the test class: xunit runs a class's tests one at a time.</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    HeadlessChromium? browser;

    public HeadlessChromium Browser => browser ?? throw new InvalidOperationException("The browser has not started.");

    public async Task InitializeAsync() => browser = await HeadlessChromium.StartAsync();

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.DisposeAsync();
    }
}

/// <summary>Opens rendered reports in headless Chromium: charts draw, no errors, no network requests.</summary>
public sealed class ReportInBrowserTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>, IDisposable
{
    const string ChartsDrawn = "(() => { const c = [...document.querySelectorAll('[data-chart]')]; " +
                               "return c.length > 0 && c.every(el => el.querySelector('svg .mark-group, svg g')); })()";
    const string MarksPerChart = "Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(el => " +
                                 "[el.getAttribute('data-chart'), el.querySelectorAll('svg path, svg line, svg rect, svg circle, svg text').length]))";
    const string SectionIds = "[...document.querySelectorAll('section[id]')].map(s => s.id)";

    readonly string temp = Directory.CreateTempSubdirectory("ctb-report-browser-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public async Task Full_report_draws_every_chart_offline_without_errors()
    {
        var page = Write("report.html", new ReportRenderer().RenderReport(ReportSamples.Full()));
        var browser = chromium.Browser;

        var visit = await browser.OpenAsync(page, ChartsDrawn);

        AssertClean(visit);
        var marks = await browser.EvaluateAsync<Dictionary<string, int>>(MarksPerChart);
        Assert.Equal(["calibration", "delta-auc", "importance", "label-balance", "params", "pr", "roc", "tuning"], marks.Keys.Order());
        Assert.All(marks, m => Assert.True(m.Value > 10, $"chart '{m.Key}' drew only {m.Value} SVG elements"));
        Assert.Equal(["decision", "data", "tuning", "models", "bootstrap", "model-card", "run"], await browser.EvaluateAsync<string[]>(SectionIds));

        var screenshot = await browser.ScreenshotAsync(1280, 2400);
        Assert.True(screenshot.Length > 10_000);
        // Set CTB_REPORT_SCREENSHOT=/some/file.png to look at the page.
        if (Environment.GetEnvironmentVariable("CTB_REPORT_SCREENSHOT") is { Length: > 0 } keep)
        {
            File.WriteAllBytes(keep, screenshot);
            var height = await browser.EvaluateAsync<int>("document.documentElement.scrollHeight");
            for (var top = 2400; top < height; top += 2400)
                File.WriteAllBytes(Path.ChangeExtension(keep, $".{top}.png"), await browser.ScreenshotAsync(1280, 2400, top));
            File.WriteAllBytes(Path.ChangeExtension(keep, ".phone.png"), await browser.ScreenshotAsync(390, 1600));
        }
    }

    [Fact]
    public async Task Charts_follow_the_dark_colour_scheme()
    {
        var page = Write("report.html", new ReportRenderer().RenderReport(ReportSamples.Full()));
        var browser = chromium.Browser;

        var visit = await browser.OpenAsync(page, ChartsDrawn, darkScheme: true);

        AssertClean(visit);
        var background = await browser.EvaluateAsync<string>("getComputedStyle(document.documentElement).backgroundColor");
        var axisLabel = await browser.EvaluateAsync<string>("document.querySelector('[data-chart=roc] svg .role-axis-label text').getAttribute('fill')");
        Assert.Equal("rgb(13, 17, 23)", background);
        Assert.Equal("#9198a1", axisLabel); // the dark scheme's --muted, read from CSS by the chart config
        if (Environment.GetEnvironmentVariable("CTB_REPORT_SCREENSHOT") is { Length: > 0 } keep)
            File.WriteAllBytes(Path.ChangeExtension(keep, ".dark.png"), await browser.ScreenshotAsync(1280, 2400));
    }

    [Fact]
    public async Task First_run_report_and_index_draw_without_errors()
    {
        var report = Write("first.html", new ReportRenderer().RenderReport(ReportSamples.FirstRun()));
        var first = ReportSamples.FirstRun("run-a");
        var index = Write("index.html", new ReportRenderer().RenderIndex(IndexPage.FromRuns(
            [IndexEntry.From(first, "run-a/report.html"), IndexEntry.From(ReportSamples.Full("run-b") with { StartedAt = first.StartedAt.AddDays(1) }, "run-b/report.html")])));
        var browser = chromium.Browser;

        var reportVisit = await browser.OpenAsync(report, ChartsDrawn);
        AssertClean(reportVisit);
        Assert.Equal(["decision", "data", "tuning", "models", "bootstrap", "model-card", "run"], await browser.EvaluateAsync<string[]>(SectionIds));

        var indexVisit = await browser.OpenAsync(index, ChartsDrawn);
        AssertClean(indexVisit);
        var marks = await browser.EvaluateAsync<Dictionary<string, int>>(MarksPerChart);
        Assert.True(marks["champion-history"] > 5);
        Assert.Equal(2, await browser.EvaluateAsync<int>("document.querySelectorAll('#runs tbody tr').length"));
    }

    [Fact]
    public async Task Clicking_a_header_sorts_the_table_numerically()
    {
        var page = Write("report.html", new ReportRenderer().RenderReport(ReportSamples.Full()));
        var browser = chromium.Browser;
        await browser.OpenAsync(page);

        const string rows = "[...document.querySelectorAll('#data table.sortable')[0].tBodies[0].rows].map(r => r.cells[0].textContent)";
        await browser.EvaluateAsync<bool>("(document.querySelectorAll('#data table.sortable')[0].tHead.rows[0].cells[2].click(), true)");
        Assert.Equal(["features", "splits", "raw"], await browser.EvaluateAsync<string[]>(rows)); // 48,211 < 48,842
        await browser.EvaluateAsync<bool>("(document.querySelectorAll('#data table.sortable')[0].tHead.rows[0].cells[2].click(), true)");
        Assert.Equal("raw", (await browser.EvaluateAsync<string[]>(rows))[0]);
    }

    static void AssertClean(PageVisit visit)
    {
        Assert.True(visit.Ready, $"{visit.Url}: the charts had not drawn after {visit.Elapsed.TotalSeconds:0.0} s");
        Assert.True(visit.Errors.Count == 0, $"{visit.Url} logged errors:\n{string.Join("\n", visit.Errors)}");
        Assert.True(visit.RemoteRequests.Count == 0, $"{visit.Url} made network requests:\n{string.Join("\n", visit.RemoteRequests)}");
    }

    string Write(string name, string html)
    {
        var path = Path.Combine(temp, name);
        File.WriteAllText(path, html);
        return path;
    }
}
