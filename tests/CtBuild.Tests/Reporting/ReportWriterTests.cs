using System.Text.Json.Nodes;
using CtBuild.Reporting;

namespace CtBuild.Tests.Reporting;

public sealed class ReportWriterTests : IDisposable
{
    readonly string reports = Path.Combine(Directory.CreateTempSubdirectory("ctb-reports-").FullName, "reports");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(reports)!, recursive: true);

    [Fact]
    public void Writes_the_run_files_the_latest_summary_and_the_index()
    {
        var report = ReportSamples.Full("run-1");

        var written = new ReportWriter(reports).Write(report);

        Assert.Equal(Path.Combine(reports, "run-1", "report.html"), written.ReportHtml);
        Assert.Contains("id=\"decision\"", File.ReadAllText(written.ReportHtml));
        Assert.StartsWith("## ✅ PROMOTED", File.ReadAllText(Path.Combine(reports, "run-1", "summary.md")));
        Assert.Equal(File.ReadAllText(written.RunSummary), File.ReadAllText(Path.Combine(reports, "summary.md")));
        Assert.Contains("href=\"run-1/report.html\"", File.ReadAllText(Path.Combine(reports, "index.html")));
        Assert.Equal(new FileInfo(written.ReportHtml).Length, written.ReportHtmlBytes);
        Assert.Empty(Directory.GetFiles(reports, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Each_run_adds_a_row_newest_first_and_a_rerun_replaces_its_row()
    {
        var writer = new ReportWriter(reports);
        var first = ReportSamples.FirstRun("run-1");
        var second = ReportSamples.Full("run-2") with { StartedAt = first.StartedAt.AddDays(1) };
        var third = ReportSamples.Full("run-3") with { StartedAt = first.StartedAt.AddDays(2) };

        writer.Write(first);
        writer.Write(third);
        writer.Write(second);
        writer.Write(second with { Decision = second.Decision with { Outcome = DecisionOutcome.Rejected } });

        var index = writer.ReadIndex();
        Assert.Equal(["run-3", "run-2", "run-1"], index.Select(r => r.RunId));
        Assert.Equal(DecisionOutcome.Rejected, index[1].Outcome);
        Assert.Null(index[2].ChampionAuc);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(reports, "index.json")))!.AsArray();
        Assert.Equal("Promoted", (string?)json[0]!["outcome"]);
        Assert.Equal("run-3/report.html", (string?)json[0]!["link"]);
        Assert.Contains("Run `run-2`", File.ReadAllText(Path.Combine(reports, "summary.md"))); // the run written last
    }

    [Fact]
    public void Corrupt_index_fails_with_what_to_do()
    {
        Directory.CreateDirectory(reports);
        File.WriteAllText(Path.Combine(reports, "index.json"), "{ not json");

        var ex = Assert.Throws<CtBuildException>(() => new ReportWriter(reports).Write(ReportSamples.Full()));

        Assert.Contains("index.json", ex.Message);
        Assert.Contains("Fix or delete it", ex.Message);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData(" ")]
    public void Run_id_that_is_not_a_folder_name_is_refused(string runId)
    {
        var ex = Assert.Throws<ArgumentException>(() => new ReportWriter(reports).Write(ReportSamples.Full(runId)));

        Assert.Contains("cannot be used as a folder name", ex.Message);
    }
}
