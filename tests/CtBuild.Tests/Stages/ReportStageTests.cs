using CtBuild.Pipeline;
using CtBuild.Tests.Reporting;
using CtBuild.Tests.Support;

namespace CtBuild.Tests.Stages;

/// <summary>The report of a real pipeline run, looked at in headless Chromium as a reviewer would.</summary>
public sealed class ReportStageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>, IDisposable
{
    readonly TempWorkspace _ws = new TempWorkspace().WithConfig(SmallConfig.Json()).WithFeaturesSql(SmallConfig.FeaturesSql);

    public void Dispose() => _ws.Dispose();

    [Fact]
    public async Task Two_real_runs_render_a_report_and_an_index_that_load_cleanly_offline()
    {
        GitRepo.Init(_ws.Root);
        _ws.WriteRaw("batch-1.csv", SmallConfig.Rows(400));
        Run("run-1");
        _ws.WriteRaw("batch-2.csv", SmallConfig.Rows(300, firstId: 5000, seed: 3));
        Run("run-2");
        // Promote renders the run's report again; the second rendering must still compare with run 1's data.
        CtBuild.Stages.ReportStage.Refresh(_ws.Context(new RunOptions { PipelineRunId = "run-2" }), promotedVersion: null);

        var reports = _ws.Load().ReportsDir;
        var page = Path.Combine(reports, "run-2", "report.html");
        Assert.True(File.Exists(page));
        var html = await File.ReadAllTextAsync(page);
        Assert.DoesNotContain("src=\"http", html);
        Assert.DoesNotContain("href=\"http", html);

        var visit = await chromium.Browser.OpenAsync(page,
            "(() => { const c = [...document.querySelectorAll('[data-chart]')]; return c.length > 0 && c.every(el => el.querySelector('svg g')); })()");
        Assert.True(visit.Ready, "the charts did not draw");
        Assert.Empty(visit.Errors);
        Assert.Empty(visit.RemoteRequests);
        var sections = await chromium.Browser.EvaluateAsync<string[]>("[...document.querySelectorAll('section[id]')].map(s => s.id)");
        Assert.Equal(["decision", "data", "tuning", "models", "bootstrap", "model-card", "run"], sections);
        var charts = await chromium.Browser.EvaluateAsync<string[]>("[...document.querySelectorAll('[data-chart]')].map(e => e.getAttribute('data-chart'))");
        Assert.Contains("roc", charts);
        Assert.Contains("delta-auc", charts); // the second run has a champion, so the bootstrap is drawn
        var text = await chromium.Browser.EvaluateAsync<string>("document.body.innerText");
        Assert.Matches("PROMOTED|KEPT CHAMPION", text);
        Assert.Contains("small-model", text);
        // The second run read a new features version, so drift is shown — also after Promote re-rendered the page.
        Assert.DoesNotContain("No previous run to compare with", text);

        var index = Path.Combine(reports, "index.html");
        var indexVisit = await chromium.Browser.OpenAsync(index, "document.querySelectorAll('a[href$=\"report.html\"]').length >= 2");
        Assert.True(indexVisit.Ready, "the index does not link both runs");
        Assert.Empty(indexVisit.Errors);
        Assert.True(File.Exists(Path.Combine(reports, "summary.md")));
    }

    void Run(string id)
    {
        var context = _ws.Context(new RunOptions { PipelineRunId = id });
        foreach (var stage in PipelineDefinition.Stages) StageRunner.Run(stage, context);
    }
}
